# metafor answers for the escalc() default matrix: functions only.
#
# Every measure (PR, PLO, PAS, PFT) x add (omitted, 0, 0.5, 1, 0.1) x to (omitted, "only0",
# "all", "if0all", "none") x dataset, each cell also pooled with rma(method = "REML").
# "Omitted" is really left out of the call: metafor only switches to add = 0 for PAS and PFT
# when `add` is missing from the call (its match.call() has no `add`), so the call is built
# with do.call() from a list that lacks the argument. The case lists are read with [[ ]],
# never $, so an absent `add` cannot partially match another name.

oracle_escalc_matrix_datasets <- function() {
  list(
    list(name = "zero", xi = c(0, 3, 7, 12), ni = c(15, 20, 25, 40)),
    list(name = "all", xi = c(10, 3, 18, 30), ni = c(10, 20, 25, 40)),
    list(name = "n1-zero", xi = c(0, 5, 9, 2), ni = c(1, 20, 30, 12)),
    list(name = "n1-one", xi = c(1, 5, 9, 2), ni = c(1, 20, 30, 12)),
    list(name = "mixed", xi = c(0, 25, 0, 1, 4, 17, 60), ni = c(30, 25, 1, 1, 19, 50, 200)),
    list(name = "only-edges", xi = c(0, 12, 0, 40, 1), ni = c(10, 12, 25, 40, 1)),
    list(name = "no-edges", xi = c(4, 11, 7, 30, 2), ni = c(20, 35, 18, 90, 15))
  )
}

# The settings crossed with every dataset; NULL means "leave the argument out".
oracle_escalc_matrix_adds <- function() list(NULL, 0, 0.5, 1, 0.1)
oracle_escalc_matrix_tos <- function() list(NULL, "only0", "all", "if0all", "none")

oracle_escalc_matrix_label <- function(value) if (is.null(value)) "omitted" else format(value)

oracle_escalc_matrix_cases <- function() {
  cases <- list()
  for (data in oracle_escalc_matrix_datasets()) {
    for (measure in c("PR", "PLO", "PAS", "PFT")) {
      for (add in oracle_escalc_matrix_adds()) {
        for (to in oracle_escalc_matrix_tos()) {
          case <- list(id = paste(data[["name"]], measure,
                                  paste0("add=", oracle_escalc_matrix_label(add)),
                                  paste0("to=", oracle_escalc_matrix_label(to)), sep = "-"),
                       measure = measure, xi = data[["xi"]], ni = data[["ni"]])
          if (!is.null(add)) case[["add"]] <- add
          if (!is.null(to)) case[["to"]] <- to
          cases[[length(cases) + 1]] <- case
        }
      }
    }
  }
  cases
}

# rma(yi, vi, method = "REML") as a user would run it on escalc's output; warnings are kept
# (metafor accepts vi = 0 with a warning, and drops non-finite yi/vi with one).
oracle_escalc_matrix_rma <- function(yi, vi) {
  warnings <- character(0)
  fit <- tryCatch(
    withCallingHandlers(rma(yi, vi, method = "REML"), warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    }),
    error = function(e) list(error = conditionMessage(e)))
  if (!inherits(fit, "rma")) {
    return(list(error = fit$error, warnings = I(warnings)))
  }
  list(estimate = as.numeric(fit$beta), se = as.numeric(fit$se), tau2 = as.numeric(fit$tau2),
       k = fit$k, warnings = I(warnings))
}

oracle_escalc_matrix_one <- function(case) {
  args <- list(measure = case[["measure"]], xi = as.numeric(case[["xi"]]),
               ni = as.numeric(case[["ni"]]))
  if (!is.null(case[["add"]])) args[["add"]] <- case[["add"]]
  if (!is.null(case[["to"]])) args[["to"]] <- case[["to"]]
  # escalc warns that some yi/vi are NA (a logit of 0 or 1); the NAs themselves are the answer.
  es <- tryCatch(suppressWarnings(do.call(escalc, args)),
                 error = function(e) list(error = conditionMessage(e)))
  if (!inherits(es, "escalc")) {
    return(list(error = es$error))
  }
  yi <- as.numeric(es$yi)
  vi <- as.numeric(es$vi)
  list(yi = yi, vi = vi, rma = oracle_escalc_matrix_rma(yi, vi))
}

oracle_escalc_matrix_batch <- function(cases) lapply(cases, oracle_escalc_matrix_one)

make_reference_escalc_matrix <- function(outdir) {
  answers <- lapply(oracle_escalc_matrix_cases(), function(case) {
    list(id = case[["id"]], input = case, output = oracle_escalc_matrix_one(case))
  })
  write_reference(answers, file.path(outdir, "escalc_matrix.json"))
}
