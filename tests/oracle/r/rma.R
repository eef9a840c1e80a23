# metafor answers for rma(): functions only (sourced by server.R and make_reference.R).
#
# oracle_rma(case): one fit. `case` has yi, vi, method, test, level, measure and (for PFT) ni.
# Returns the CLI contract keys plus extras, or list(error = <metafor's message>).

oracle_collect_warnings <- function(expr) {
  warns <- character(0)
  value <- withCallingHandlers(expr, warning = function(w) {
    warns <<- c(warns, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = warns)
}

# Back-transformed pred/CI/PI: the transf functions predict(transf=) would apply, called on
# the fit's own numbers (saves a predict() call per transform).
oracle_back <- function(measure, res, p, ni) {
  transf <- switch(measure,
    PLO = transf.ilogit, PAS = transf.iarcsin, PFT = transf.ipft.hm, PR = NULL, GEN = NULL)
  if (is.null(transf)) {
    return(NULL)
  }
  values <- c(p$pred, p$ci.lb, p$ci.ub, p$pi.lb, p$pi.ub)
  back <- if (measure == "PFT") sapply(values, transf, targs = list(ni = ni)) else sapply(values, transf)
  out <- list(estimate = back[1], ci_low = min(back[2:3]), ci_high = max(back[2:3]),
              pi_low = min(back[4:5]), pi_high = max(back[4:5]))
  if (measure == "PLO") {
    mean <- sapply(values[1:3], transf.ilogit.int, targs = list(tau2 = res$tau2))
    out$mean <- mean[1]
    out$mean_ci_low <- mean[2]
    out$mean_ci_high <- mean[3]
  }
  out
}

oracle_rma <- function(case, tau2_ci = NULL) {
  level <- if (is.null(case$level)) 95 else case$level
  fitted <- tryCatch(
    oracle_collect_warnings(rma(as.numeric(case$yi), as.numeric(case$vi),
                                method = case$method, test = case$test, level = level)),
    error = function(e) list(error = conditionMessage(e)))
  if (!is.null(fitted$error)) {
    return(list(error = fitted$error))
  }
  res <- fitted$value
  p <- predict(res)
  if (is.null(tau2_ci)) tau2_ci <- oracle_tau2_ci(res)
  list(
    k = res$k, measure = case$measure, method = res$method, test = res$test,
    estimate = c(res$beta), se = res$se, ci_low = res$ci.lb, ci_high = res$ci.ub,
    pi_low = p$pi.lb, pi_high = p$pi.ub,
    tau2 = res$tau2, tau2_ci_low = tau2_ci[[1]], tau2_ci_high = tau2_ci[[2]],
    i2 = res$I2, h2 = res$H2, q = res$QE, q_df = res$k - res$p, q_p = res$QEp,
    back = oracle_back(case$measure, res, p, as.numeric(case$ni)),
    stat = res$zval, pval = res$pval, se_tau2 = res$se.tau2,
    i2_ci_low = tau2_ci[[3]], i2_ci_high = tau2_ci[[4]],
    weights = unname(weights(res)), warnings = fitted$warnings
  )
}

# Q-profile CI of tau2 and I2 (metafor confint defaults); NA where metafor gives none.
oracle_tau2_ci <- function(res) {
  if (res$method %in% c("FE", "EE", "CE") || res$k < 2) return(list(NA, NA, NA, NA))
  ci <- tryCatch(suppressWarnings(confint(res)$random), error = function(e) NULL)
  if (is.null(ci)) return(list(NA, NA, NA, NA))
  list(ci["tau^2", "ci.lb"], ci["tau^2", "ci.ub"], ci["I^2(%)", "ci.lb"], ci["I^2(%)", "ci.ub"])
}

# Many cases per request keeps the round trips short.
oracle_rma_batch <- function(cases) lapply(cases, oracle_rma)

# Every dataset x method x test, in that nesting order. The tau2 CI does not depend on the
# test, so confint() runs once per dataset and method; datasets are spread over the cores.
oracle_rma_grid <- function(datasets, methods, tests) {
  one <- function(data) {
    out <- list()
    for (method in methods) {
      ci <- NULL
      for (test in tests) {
        case <- c(data, list(method = method, test = test))
        if (is.null(ci)) {
          fit <- tryCatch(suppressWarnings(rma(as.numeric(data$yi), as.numeric(data$vi),
                                               method = method, level = case$level)),
                          error = function(e) NULL)
          ci <- if (is.null(fit)) list(NA, NA, NA, NA) else oracle_tau2_ci(fit)
        }
        out[[length(out) + 1]] <- oracle_rma(case, tau2_ci = ci)
      }
    }
    out
  }
  cores <- max(1L, parallel::detectCores(), na.rm = TRUE)
  unlist(parallel::mclapply(datasets, one, mc.cores = cores), recursive = FALSE)
}

# Pinned reference for the metadat datasets: written by make_reference.R.
oracle_rma_metadat_cases <- function() {
  cases <- list()
  add <- function(name, measure, xi = NULL, ni = NULL, yi = NULL, vi = NULL, add = 0.5) {
    if (measure != "GEN") {
      es <- escalc(measure = measure, xi = xi, ni = ni, add = add)
      yi <- c(es$yi); vi <- c(es$vi)
    }
    for (method in c("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS")) {
      for (test in c("z", "knha")) {
        cases[[length(cases) + 1]] <<- list(
          id = paste(name, measure, method, test, sep = "-"), measure = measure,
          method = method, test = test, level = 95, yi = yi, vi = vi, ni = ni, add = add)
      }
    }
  }
  d <- dat.pritz1997
  for (m in c("PLO", "PR", "PAS")) add("pritz1997", m, xi = d$xi, ni = d$ni)
  add("pritz1997", "PFT", xi = d$xi, ni = d$ni, add = 0)
  d <- dat.debruin2009
  add("debruin2009", "PLO", xi = d$xi, ni = d$ni)
  add("debruin2009", "PFT", xi = d$xi, ni = d$ni, add = 0)
  d <- dat.nielweise2007
  add("nielweise2007-control", "PLO", xi = d$ci, ni = d$n2i)
  add("nielweise2007-treated", "PLO", xi = d$ai, ni = d$n1i)
  d <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  add("bcg-logRR", "GEN", yi = c(d$yi), vi = c(d$vi))
  d <- escalc(measure = "OR", ai = pre.xti, n1i = pre.nti, ci = pre.xci, n2i = pre.nci, data = dat.collins1985b)
  add("collins1985b-logOR", "GEN", yi = c(d$yi), vi = c(d$vi))
  clasp <- escalc(measure = "OR", ai = c(5, 5, 12, 69, 9, 313), n1i = c(156, 303, 565, 1570, 103, 4659),
                  ci = c(8, 17, 9, 94, 11, 352), n2i = c(74, 303, 477, 1565, 105, 4650))
  add("clasp-logOR", "GEN", yi = c(clasp$yi), vi = c(clasp$vi))
  add("ft-pathology-A", "PFT", xi = c(0, 0, 1, 0, 40), ni = c(10, 12, 15, 20, 20000), add = 0)
  add("ft-pathology-B", "PFT", xi = c(1, 2, 1, 300), ni = c(15, 20, 12, 5000), add = 0)
  cases
}

# A reproducible set of random cases generated in R (the pinned subset of the random tests).
oracle_rma_random_cases <- function(n = 40, seed = 20261124) {
  set.seed(seed)
  measures <- c("PLO", "PR", "PAS", "PFT", "GEN")
  methods <- c("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS")
  cases <- list()
  for (i in seq_len(n)) {
    k <- sample(c(1, 2, 3, 5, 8, 15, 30), 1)
    measure <- measures[(i - 1) %% length(measures) + 1]
    if (measure == "GEN") {
      yi <- rnorm(k, 0.3, 0.6); vi <- rexp(k, 5) + 0.005; xi <- NULL; ni <- NULL
    } else {
      ni <- sample(c(1, 5, 20, 80, 400, 100000), k, replace = TRUE)
      xi <- rbinom(k, ni, plogis(rnorm(k, -0.5, 1.2)))
      es <- escalc(measure = measure, xi = xi, ni = ni)
      yi <- c(es$yi); vi <- c(es$vi)
    }
    cases[[i]] <- list(id = sprintf("random%02d-k%d-%s-%s-%s", i, k, measure,
                                    methods[(i - 1) %% 9 + 1], c("z", "knha")[i %% 2 + 1]),
                       measure = measure, method = methods[(i - 1) %% 9 + 1],
                       test = c("z", "knha")[i %% 2 + 1], level = c(95, 90, 99)[i %% 3 + 1],
                       yi = yi, vi = vi, xi = xi, ni = ni)
  }
  cases
}

make_reference_rma <- function(outdir) {
  for (set in list(list("rma_metadat.json", oracle_rma_metadat_cases()),
                   list("rma_random.json", oracle_rma_random_cases()))) {
    answers <- lapply(set[[2]], function(case) list(id = case$id, input = case, output = oracle_rma(case)))
    write_reference(answers, file.path(outdir, set[[1]]))
  }
}
