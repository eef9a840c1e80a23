# metafor answers for rma.glmm(measure = "PLO"): functions only (sourced by server.R and
# make_reference.R).
#
# oracle_glmm(case, tol_pwrss): one fit. `case` has xi, ni, test ("z" or "t") and level.
# Returns estimate, se, intervals, tau2, I2/H2, both heterogeneity tests and the
# back-transforms (median via transf.ilogit, mean via transf.ilogit.int), or
# list(error = <metafor's message>) when rma.glmm stops.
#
# tol_pwrss = NULL is metafor as users run it. A number reruns the same rma.glmm call with
# lme4's inner penalised IRLS taken to that relative tolerance (lme4's default tolPwrss is
# 1e-7, and its quadrature then uses the curvature of the previous iterate) and bobyqa to
# rhoend 1e-12 (the default stops near 2e-7). lme4's se comes from a finite-difference
# Hessian (step 1e-4) of that noisy deviance, so the answers move with the tolerance: the
# spread over PRECISE_TOL_PWRSS is metafor's own precision on that dataset.
PRECISE_TOL_PWRSS <- c(1e-10, 1e-11, 1e-12)

oracle_glmm <- function(case, tol_pwrss = NULL) {
  if (is.null(tol_pwrss)) {
    return(oracle_glmm_fit(case, list()))
  }
  glmer_ctrl <- list(tolPwrss = tol_pwrss, optimizer = "bobyqa",
                     optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
  c(oracle_glmm_fit(case, list(glmerCtrl = glmer_ctrl)), list(tol_pwrss = tol_pwrss))
}

# The default fit and the precise reruns (at the tau2 = 0 boundary PIRLS sometimes cannot
# reach the tighter tolerances: "pwrssUpdate did not converge"; those come back as errors).
oracle_glmm_runs <- function(case) {
  list(default = oracle_glmm(case),
       precise = lapply(PRECISE_TOL_PWRSS, function(tol) oracle_glmm(case, tol)))
}

oracle_glmm_fit <- function(case, control) {
  level <- if (is.null(case$level)) 95 else case$level
  test <- if (is.null(case$test)) "z" else case$test
  warns <- character(0)
  res <- tryCatch(withCallingHandlers(
    rma.glmm(xi = as.numeric(case$xi), ni = as.numeric(case$ni), measure = "PLO",
             test = test, level = level, control = control),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }), error = function(e) list(error = conditionMessage(e)))
  if (!inherits(res, "rma")) {
    return(list(error = res$error))
  }
  p <- predict(res)
  med <- predict(res, transf = transf.ilogit)
  avg <- predict(res, transf = transf.ilogit.int, targs = list(tau2 = res$tau2))
  list(
    k = res$k, test = res$test, estimate = c(res$beta), se = res$se, stat = res$zval,
    pval = res$pval, ci_low = res$ci.lb, ci_high = res$ci.ub, pi_low = p$pi.lb,
    pi_high = p$pi.ub, tau2 = res$tau2, i2 = res$I2, h2 = res$H2,
    q_wald = res$QE.Wld, q_wald_p = res$QEp.Wld, q_lrt = res$QE.LRT, q_lrt_p = res$QEp.LRT,
    back = list(estimate = med$pred, ci_low = med$ci.lb, ci_high = med$ci.ub,
                pi_low = med$pi.lb, pi_high = med$pi.ub, mean = avg$pred,
                mean_ci_low = avg$ci.lb, mean_ci_high = avg$ci.ub),
    warnings = I(warns)
  )
}

# Many fits per request, spread over the cores (each fit is independent).
oracle_glmm_batch <- function(cases) {
  cores <- max(1L, parallel::detectCores(), na.rm = TRUE)
  parallel::mclapply(cases, oracle_glmm_runs, mc.cores = cores)
}

# Pinned cases: metadat proportion data, the Freeman-Tukey pathology sets and edge cases.
oracle_glmm_cases <- function() {
  cases <- list()
  add <- function(name, xi, ni) {
    for (test in c("z", "t")) {
      cases[[length(cases) + 1]] <<- list(id = paste(name, test, sep = "-"), xi = xi, ni = ni,
                                          test = test, level = 95)
    }
  }
  add("pritz1997", dat.pritz1997$xi, dat.pritz1997$ni)
  add("debruin2009", dat.debruin2009$xi, dat.debruin2009$ni)
  add("nielweise2007-control", dat.nielweise2007$ci, dat.nielweise2007$n2i)
  add("nielweise2007-treated", dat.nielweise2007$ai, dat.nielweise2007$n1i)
  add("ft-pathology-A", c(0, 0, 1, 0, 40), c(10, 12, 15, 20, 20000))
  add("ft-pathology-B", c(1, 2, 1, 300), c(15, 20, 12, 5000))
  add("ft-pathology-C", c(0, 1, 2, 3, 40), c(12, 15, 20, 25, 20000))
  add("k2-one-zero", c(0, 1), c(10, 20))
  add("all-zero", c(0, 0, 0), c(10, 20, 30))
  cases
}

make_reference_glmm <- function(outdir) {
  answers <- lapply(oracle_glmm_cases(), function(case) {
    runs <- oracle_glmm_runs(case)
    list(id = case$id, input = case, output = runs$default, precise = runs$precise)
  })
  write_reference(answers, file.path(outdir, "glmm.json"))
}
