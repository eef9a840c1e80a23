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

oracle_glmm <- function(case, tol_pwrss = NULL, hessian_delta = NULL) {
  if (is.null(tol_pwrss)) {
    return(oracle_glmm_fit(case, list()))
  }
  glmer_ctrl <- list(tolPwrss = tol_pwrss, optimizer = "bobyqa",
                     optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
  answer <- oracle_glmm_fit(case, list(glmerCtrl = glmer_ctrl), tol_pwrss, hessian_delta)
  c(answer, list(tol_pwrss = tol_pwrss, hessian_delta = hessian_delta))
}

# The default fit and the precise reruns (at the tau2 = 0 boundary PIRLS sometimes cannot
# reach the tighter tolerances: "pwrssUpdate did not converge"; those come back as errors).
# The last precise run also takes lme4's Hessian with a step of 1e-3 instead of 1e-4: with
# studies of n = 1e5 the deviance is large and a 1e-4 step turns its rounding into se noise.
oracle_glmm_runs <- function(case) {
  precise <- lapply(PRECISE_TOL_PWRSS, function(tol) oracle_glmm(case, tol))
  wide_step <- oracle_glmm(case, PRECISE_TOL_PWRSS[1], hessian_delta = 1e-3)
  list(default = oracle_glmm(case), precise = c(precise, list(wide_step)))
}

# se, z, p and CI recomputed from lme4's own deviance function, differentiated by lme4's own
# deriv12() at its optimum with step `delta` (metafor uses vcov(), i.e. step 1e-4).
with_hessian_step <- function(res, case, tol_pwrss, delta, level) {
  fit <- res$res.ML
  xi <- as.numeric(case$xi); ni <- as.numeric(case$ni)
  study <- factor(seq_along(xi))
  devfun <- lme4::glmer(cbind(xi, ni - xi) ~ 1 + (1 | study), family = binomial, nAGQ = 7,
                        devFunOnly = TRUE, control = lme4::glmerControl(tolPwrss = tol_pwrss))
  par <- c(lme4::getME(fit, "theta"), lme4::fixef(fit))
  hessian <- lme4:::deriv12(devfun, par, delta = delta)$Hessian
  res$vb[1, 1] <- 2 * solve(hessian)[2, 2]
  res$se <- sqrt(res$vb[1, 1])
  res$zval <- c(res$beta) / res$se
  alpha <- (100 - level) / 100
  if (res$test == "t") {
    crit <- qt(alpha / 2, df = res$k - 1, lower.tail = FALSE)
    res$pval <- 2 * pt(abs(res$zval), df = res$k - 1, lower.tail = FALSE)
  } else {
    crit <- qnorm(alpha / 2, lower.tail = FALSE)
    res$pval <- 2 * pnorm(abs(res$zval), lower.tail = FALSE)
  }
  res$ci.lb <- c(res$beta) - crit * res$se
  res$ci.ub <- c(res$beta) + crit * res$se
  res
}

# QE.Wld from the saturated glm with the best-determined study as reference level. metafor's
# model matrix (~ -1 + intrcpt + study) makes the *last* study the reference; when that study
# has 0 or n events its IRLS weight is ~1e-10 and the contrasts' covariance loses digits.
wald_well_conditioned <- function(xi, ni) {
  study <- factor(seq_along(xi))
  first <- suppressWarnings(glm(cbind(xi, ni - xi) ~ study, family = binomial))
  ref <- relevel(study, ref = which.max(first$weights))
  sat <- suppressWarnings(glm(cbind(xi, ni - xi) ~ ref, family = binomial))
  b <- coef(sat)[-1]
  c(t(b) %*% chol2inv(chol(vcov(sat)[-1, -1, drop = FALSE])) %*% b)
}

oracle_glmm_fit <- function(case, control, tol_pwrss = NULL, hessian_delta = NULL) {
  level <- if (is.null(case$level)) 95 else case$level
  test <- if (is.null(case$test)) "z" else case$test
  warns <- character(0)
  res <- tryCatch(withCallingHandlers(
    rma.glmm(xi = as.numeric(case$xi), ni = as.numeric(case$ni), measure = "PLO",
             test = test, level = level, control = control, retfit = TRUE),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }), error = function(e) list(error = conditionMessage(e)))
  if (!inherits(res, "rma")) {
    return(list(error = res$error))
  }
  if (!is.null(hessian_delta)) {
    res <- tryCatch(with_hessian_step(res, case, tol_pwrss, hessian_delta, level),
                    error = function(e) list(error = conditionMessage(e)))
    if (!inherits(res, "rma")) {
      return(list(error = res$error))
    }
  }
  q_exact <- tryCatch(wald_well_conditioned(as.numeric(case$xi), as.numeric(case$ni)),
                      error = function(e) NA)
  p <- predict(res)
  med <- predict(res, transf = transf.ilogit)
  avg <- predict(res, transf = transf.ilogit.int, targs = list(tau2 = res$tau2))
  list(
    k = res$k, test = res$test, estimate = c(res$beta), se = res$se, stat = res$zval,
    pval = res$pval, ci_low = res$ci.lb, ci_high = res$ci.ub, pi_low = p$pi.lb,
    pi_high = p$pi.ub, tau2 = res$tau2, i2 = res$I2, h2 = res$H2,
    q_wald = res$QE.Wld, q_wald_p = res$QEp.Wld, q_lrt = res$QE.LRT, q_lrt_p = res$QEp.LRT,
    q_wald_exact = q_exact,
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
