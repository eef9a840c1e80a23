# metafor answers for the "beyond one pooled number" functions: functions only
# (sourced by server.R for live requests and by make_reference.R for the pinned JSON).
#
# oracle_extras(case): `case` has yi, vi, ni, x1, x2 (moderators), g (subgroup labels),
# method and test. Returns meta-regression, regtest, ranktest, trimfill, leave1out,
# influence and subgroup answers, each as a plain list of numbers.

extras_reg <- function(res) {
  list(b = c(res$beta), se = res$se, stat = res$zval, pval = res$pval,
       ci_low = res$ci.lb, ci_high = res$ci.ub, tau2 = res$tau2, se_tau2 = res$se.tau2,
       i2 = res$I2, h2 = res$H2, r2 = if (is.null(res$R2)) NA else res$R2,
       qe = res$QE, qe_p = res$QEp, qm = res$QM, qm_df = res$QMdf, qm_p = res$QMp)
}

extras_regtest <- function(fit, ni, model, predictor) {
  rt <- regtest(fit, ni = ni, model = model, predictor = predictor)
  list(model = model, predictor = predictor, stat = rt$zval, pval = rt$pval,
       ddf = if (is.null(rt$dfs) || is.na(rt$dfs)) NA else rt$dfs,
       est = if (is.null(rt$est)) NA else rt$est,
       ci_low = if (is.null(rt$ci.lb)) NA else rt$ci.lb,
       ci_high = if (is.null(rt$ci.ub)) NA else rt$ci.ub)
}

extras_trimfill <- function(fit, estimator) {
  tf <- suppressWarnings(trimfill(fit, estimator = estimator))
  list(estimator = estimator, k0 = tf$k0, se_k0 = tf$se.k0, side = tf$side,
       estimate = c(tf$beta), se = tf$se, ci_low = tf$ci.lb, ci_high = tf$ci.ub,
       tau2 = tf$tau2, yi = c(tf$yi), vi = tf$vi)
}

extras_influence <- function(fit) {
  inf <- influence(fit)
  cols <- c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight")
  out <- setNames(lapply(cols, function(n) as.numeric(inf$inf[[n]])), cols)
  c(out, list(dfbetas = unname(as.matrix(as.data.frame(inf$dfbs))), inf = inf$is.infl))
}

extras_subgroups <- function(yi, vi, g, method, test) {
  g <- factor(g, levels = unique(g))
  fits <- lapply(levels(g), function(l) rma(yi[g == l], vi[g == l], method = method, test = test))
  est <- sapply(fits, function(f) c(f$beta))
  se <- sapply(fits, function(f) f$se)
  lv <- factor(levels(g), levels = levels(g))
  between <- rma(yi = est, sei = se, mods = ~lv, method = "FE")
  common <- rma(yi, vi, mods = ~g, method = method, test = test)
  cells <- rma(yi, vi, mods = ~g - 1, method = method, test = test)
  list(separate = list(estimate = est, se = se, tau2 = sapply(fits, function(f) f$tau2),
                       q = between$QM, q_df = between$QMdf[1], q_p = between$QMp),
       common = list(estimate = c(cells$beta), se = cells$se, tau2 = common$tau2,
                     q = common$QM, q_df = common$QMdf, q_p = common$QMp))
}

oracle_extras <- function(case) {
  yi <- as.numeric(case$yi); vi <- as.numeric(case$vi); ni <- as.numeric(case$ni)
  x1 <- as.numeric(case$x1); x2 <- as.numeric(case$x2)
  method <- case$method; test <- case$test
  suppressWarnings({
    fit <- rma(yi, vi, method = method, test = test)
    fit1 <- rma(yi, vi, mods = ~x1, method = method, test = test)
    fit2 <- rma(yi, vi, mods = ~x1 + x2, method = method, test = test)
    l1o <- leave1out(fit)
    rk <- ranktest(fit)
    out <- list(
      reg1 = extras_reg(fit1), reg2 = extras_reg(fit2),
      regtest = list(extras_regtest(fit, ni, "rma", "sei"), extras_regtest(fit, ni, "lm", "sei"),
                     extras_regtest(fit, ni, "rma", "ninv"),
                     extras_regtest(fit, ni, "lm", "sqrtninv")),
      ranktest = list(tau = unname(rk$tau), pval = rk$pval),
      trimfill = list(extras_trimfill(fit, "L0"), extras_trimfill(fit, "R0")),
      leave1out = list(estimate = l1o$estimate, se = l1o$se, stat = l1o[[3]], pval = l1o$pval,
                       ci_low = l1o$ci.lb, ci_high = l1o$ci.ub, q = l1o$Q, q_p = l1o$Qp,
                       tau2 = if (is.null(l1o$tau2)) rep(0, length(yi)) else l1o$tau2,
                       i2 = l1o$I2, h2 = l1o$H2),
      influence = extras_influence(fit), influence1 = extras_influence(fit1),
      subgroups = extras_subgroups(yi, vi, case$g, method, test))
  })
  out
}

oracle_extras_batch <- function(cases) lapply(cases, oracle_extras)

# metadat cases for the pinned file; each carries its data so Python needs no R to compare.
extras_metadat_cases <- function() {
  bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  egg <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)
  data <- list(
    bcg = list(yi = c(bcg$yi), vi = c(bcg$vi), ni = with(dat.bcg, tpos + tneg + cpos + cneg),
               x1 = dat.bcg$ablat, x2 = dat.bcg$year, g = dat.bcg$alloc),
    egger2001 = list(yi = c(egg$yi), vi = c(egg$vi), ni = with(dat.egger2001, n1i + n2i),
                     x1 = dat.egger2001$year - 1990, x2 = log(with(dat.egger2001, n1i + n2i)),
                     g = ifelse(dat.egger2001$year < 1990, "before 1990", "1990 on")))
  cases <- list()
  for (name in names(data)) {
    for (method in c("REML", "DL", "FE")) {
      for (test in c("z", "knha")) {
        case <- c(data[[name]], list(id = paste(name, method, test, sep = "-"),
                                     method = method, test = test))
        cases[[length(cases) + 1]] <- case
      }
    }
  }
  cases
}

make_reference_extras <- function(dir) {
  cases <- extras_metadat_cases()
  answers <- lapply(cases, function(case) list(case = case, metafor = oracle_extras(case)))
  write_reference(answers, file.path(dir, "extras.json"))
}

# oracle_regression(cases): meta-regression only (one and two moderators), for every
# estimator and test; cheaper than oracle_extras, so it covers the whole method x test grid.
# A fit metafor refuses comes back as list(error = <its message>).
oracle_regression <- function(cases) {
  lapply(cases, function(case) {
    yi <- as.numeric(case$yi); vi <- as.numeric(case$vi)
    x1 <- as.numeric(case$x1); x2 <- as.numeric(case$x2)
    one <- function(mods) tryCatch(suppressWarnings(extras_reg(
      rma(yi, vi, mods = mods, method = case$method, test = case$test))),
      error = function(e) list(error = conditionMessage(e)))
    list(reg1 = one(~x1), reg2 = one(~x1 + x2))
  })
}
