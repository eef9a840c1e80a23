# R `survival` answers for postcart.stats.survival (Kaplan-Meier, Greenwood band, median CI, Cox).
#
# Two uses:
#   Rscript survival_reference.R                 (from tests/oracle) regenerate the pinned
#                                                reference/survival_reference.json
#   Rscript survival_reference.R IN.json OUT.json  answer the cases in IN.json (live tests)
#
# A case is {"time": [...], "event": [...], "arm": [...] (optional, 0/1), "conf_type": "log"}.
# The answer holds survfit()'s columns at every distinct time, quantile.survfit()'s median
# and limits, and for two arms coxph() with Efron and Breslow ties.
suppressPackageStartupMessages({
  library(jsonlite)
  library(survival)
})

survival_answer <- function(case) {
  time <- as.numeric(case$time)
  event <- as.numeric(case$event)
  conf_type <- if (is.null(case$conf_type)) "log" else case$conf_type
  fit <- survfit(Surv(time, event) ~ 1, conf.type = conf_type)
  med <- quantile(fit, probs = 0.5)
  out <- list(
    km = list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
              n_censor = fit$n.censor, surv = fit$surv, std_err = fit$std.err,
              lower = fit$lower, upper = fit$upper),
    median = list(estimate = unname(med$quantile), ci_low = unname(med$lower),
                  ci_high = unname(med$upper))
  )
  if (!is.null(case$arm)) {
    arm <- as.numeric(case$arm)
    cox <- function(ties) {
      m <- coxph(Surv(time, event) ~ arm, ties = ties)
      list(coef = unname(coef(m)), se = unname(sqrt(diag(vcov(m)))),
           loglik = m$loglik[2], loglik_null = m$loglik[1])
    }
    out$cox_efron <- cox("efron")
    out$cox_breslow <- cox("breslow")
  }
  out
}

pinned_cases <- function() {
  set.seed(20120209)
  cases <- list()
  # reconstructed-looking data: times on a 0.1-month grid, so many ties
  for (i in 1:6) {
    n0 <- sample(40:150, 1); n1 <- sample(40:150, 1)
    t0 <- rweibull(n0, shape = 1.1, scale = 8); t1 <- rweibull(n1, shape = 1.1, scale = 11)
    c0 <- runif(n0, 6, 30); c1 <- runif(n1, 6, 30)
    time <- round(c(pmin(t0, c0), pmin(t1, c1)), 1)
    event <- as.integer(c(t0 <= c0, t1 <= c1))
    cases[[length(cases) + 1]] <- list(name = paste0("weibull_ties_", i), time = time,
                                       event = event, arm = c(rep(0, n0), rep(1, n1)))
  }
  cases[[length(cases) + 1]] <- list(name = "small_all_events", time = c(1, 2, 2, 3, 4, 5),
                                     event = c(1, 1, 0, 1, 1, 1))
  cases[[length(cases) + 1]] <- list(name = "median_on_flat_step", time = c(1, 2, 3, 4),
                                     event = c(1, 1, 1, 1))
  cases[[length(cases) + 1]] <- list(name = "median_not_reached", time = c(1, 2, 3, 4, 5, 6),
                                     event = c(1, 0, 0, 0, 0, 0))
  for (ct in c("log-log", "plain")) {
    cases[[length(cases) + 1]] <- list(name = paste0("conf_", ct), time = cases[[1]]$time,
                                       event = cases[[1]]$event, conf_type = ct)
  }
  cases
}

write_json_file <- function(value, path) {
  writeLines(toJSON(value, digits = NA, auto_unbox = TRUE, na = "string", null = "null",
                    pretty = TRUE), path)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2) {
  cases <- fromJSON(args[1], simplifyVector = TRUE, simplifyDataFrame = FALSE)
  write_json_file(lapply(cases, survival_answer), args[2])
} else {
  cases <- pinned_cases()
  answers <- lapply(cases, function(case) c(list(name = case$name, input = case),
                                            survival_answer(case)))
  header <- list(generated_by = "tests/oracle/survival_reference.R",
                 r_version = paste(R.version$major, R.version$minor, sep = "."),
                 survival_version = as.character(packageVersion("survival")),
                 cases = answers)
  dir.create("reference", showWarnings = FALSE)
  write_json_file(header, "reference/survival_reference.json")
  cat("wrote reference/survival_reference.json (", length(answers), "cases )\n")
}
