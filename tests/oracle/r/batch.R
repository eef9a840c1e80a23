# metafor answers for rma_batch: functions only (sourced by server.R; the batch comparison
# is live only, so there is no make_reference_batch()).
#
# oracle_batch_grid(datasets, methods): as oracle_rma_grid, but each dataset names its own
#   tests (so the cheaper tests can run on every dataset and the others on a subset), and
#   the answers stay nested: one list per dataset of method x test fits, in that order.
# oracle_batch_pft(datasets, methods, tests): each dataset has xi, ni, add and level.
#   metafor computes yi/vi with escalc(measure = "PFT"), fits every method x test and
#   back-transforms with predict(transf = transf.ipft.hm, targs = list(ni = ni)), as a user
#   would. Returns, per dataset, list(yi, vi, fits).

# Q-profile CI for one dataset and method: it does not depend on the test, so it is
# computed once and handed to oracle_rma for every test.
oracle_batch_tau2_ci <- function(yi, vi, method, level) {
  fit <- tryCatch(suppressWarnings(rma(yi, vi, method = method, level = level)),
                  error = function(e) NULL)
  if (is.null(fit)) list(NA, NA, NA, NA) else oracle_tau2_ci(fit)
}

oracle_batch_grid <- function(datasets, methods) {
  one <- function(data) {
    out <- list()
    for (method in methods) {
      ci <- oracle_batch_tau2_ci(as.numeric(data$yi), as.numeric(data$vi), method, data$level)
      for (test in data$tests) {
        out[[length(out) + 1]] <- oracle_rma(c(data, list(method = method, test = test)),
                                             tau2_ci = ci)
      }
    }
    out
  }
  cores <- max(1L, parallel::detectCores(), na.rm = TRUE)
  parallel::mclapply(datasets, one, mc.cores = cores)
}

oracle_batch_pft_fit <- function(yi, vi, ni, method, test, level, tau2_ci) {
  out <- oracle_rma(list(yi = yi, vi = vi, method = method, test = test, level = level,
                         measure = "GEN"), tau2_ci = tau2_ci)
  if (!is.null(out$error)) {
    return(out)
  }
  res <- suppressWarnings(rma(yi, vi, method = method, test = test, level = level))
  p <- predict(res, transf = transf.ipft.hm, targs = list(ni = ni))
  out$measure <- "PFT"
  out$back <- list(estimate = p$pred, ci_low = p$ci.lb, ci_high = p$ci.ub,
                   pi_low = p$pi.lb, pi_high = p$pi.ub)
  out
}

oracle_batch_pft <- function(datasets, methods, tests) {
  one <- function(data) {
    ni <- as.numeric(data$ni)
    es <- escalc(measure = "PFT", xi = as.numeric(data$xi), ni = ni, add = data$add)
    yi <- c(es$yi)
    vi <- c(es$vi)
    fits <- list()
    for (method in methods) {
      ci <- oracle_batch_tau2_ci(yi, vi, method, data$level)
      for (test in tests) {
        fits[[length(fits) + 1]] <- oracle_batch_pft_fit(yi, vi, ni, method, test, data$level, ci)
      }
    }
    list(yi = yi, vi = vi, fits = fits)
  }
  cores <- max(1L, parallel::detectCores(), na.rm = TRUE)
  parallel::mclapply(datasets, one, mc.cores = cores)
}
