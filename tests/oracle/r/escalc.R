# metafor answers for escalc() on single proportions: functions only.

oracle_escalc <- function(case) {
  # A case without add/to leaves them out of the call, so metafor applies its own default
  # (add = 0 for PAS and PFT when add is missing, 1/2 otherwise); see r/escalc_matrix.R.
  args <- list(measure = case[["measure"]], xi = as.numeric(case[["xi"]]),
               ni = as.numeric(case[["ni"]]))
  if (!is.null(case[["add"]])) args[["add"]] <- case[["add"]]
  if (!is.null(case[["to"]])) args[["to"]] <- case[["to"]]
  es <- tryCatch(do.call(escalc, args), error = function(e) list(error = conditionMessage(e)))
  if (!is.null(es$error)) {
    return(list(error = es$error))
  }
  list(yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}

oracle_escalc_batch <- function(cases) lapply(cases, oracle_escalc)

oracle_escalc_cases <- function() {
  cases <- list()
  add <- function(name, xi, ni) {
    for (measure in c("PR", "PLO", "PAS", "PFT")) {
      for (corr in list(list(0.5, "only0"), list(0.5, "all"), list(0.5, "if0all"),
                        list(0.5, "none"), list(0, "only0"), list(1, "only0"))) {
        cases[[length(cases) + 1]] <<- list(
          id = paste(name, measure, paste0("add", corr[[1]]), corr[[2]], sep = "-"),
          measure = measure, xi = xi, ni = ni, add = corr[[1]], to = corr[[2]])
      }
    }
  }
  add("pritz1997", dat.pritz1997$xi, dat.pritz1997$ni)
  add("debruin2009", dat.debruin2009$xi, dat.debruin2009$ni)
  add("nielweise2007-control", dat.nielweise2007$ci, dat.nielweise2007$n2i)
  add("miller1978", c(3, 6, 10, 1), c(11, 17, 21, 6))
  add("edges", c(0, 4, 9, 16, 20, 1, 0, 500000), c(10, 10, 15, 20, 20, 1, 1, 1000000))
  cases
}

make_reference_escalc <- function(outdir) {
  answers <- lapply(oracle_escalc_cases(),
                    function(case) list(id = case$id, input = case, output = oracle_escalc(case)))
  write_reference(answers, file.path(outdir, "escalc.json"))
}
