# metafor answers for the "methods readers expect" (issue 14 item 4): funnel(), cumul(),
# baujat() and predict(pi.type=). Functions only (sourced by server.R for live requests and
# by make_reference.R for the pinned JSON).
#
# oracle_methods(case): `case` has yi, vi, ni, key (the cumul order), method, test, level,
# levels (funnel contour levels), addtau2, every (keep every n-th point of a funnel region;
# 1 = all). Each part is wrapped in tryCatch so a metafor error comes back as
# list(error = <its message>) instead of failing the whole request.

# The display list of the plot just drawn: metafor's funnel() computes its pseudo-confidence
# region only to draw it, so the numbers are read back from the polygons it drew.
methods_drawn <- function(draw) {
  pdf(NULL)
  on.exit(dev.off())
  dev.control("enable")
  sav <- draw()
  ops <- recordPlot()[[1]]
  name <- function(op) { f <- op[[2]][[1]]; if (is.null(f$name)) "" else f$name }
  window <- Filter(function(op) name(op) == "C_plot_window", ops)[[1]][[2]]
  polygons <- lapply(Filter(function(op) name(op) == "C_polygon", ops),
                     function(op) list(x = op[[2]][[2]], y = op[[2]][[3]]))
  list(sav = sav, xlim = window[[2]], ylim = window[[3]], polygons = polygons)
}

methods_funnel <- function(fit, yaxis, levels, addtau2, every) {
  drawn <- methods_drawn(function() funnel(fit, yaxis = yaxis, level = levels,
                                           addtau2 = addtau2))
  # metafor draws the widest region first (levels in decreasing order); each polygon is
  # c(left, rev(right)) against c(grid, rev(grid)) on ci.res = 1000 grid points.
  regions <- lapply(drawn$polygons, function(p) {
    n <- length(p$x) / 2
    keep <- unique(c(seq(1, n, by = every), n))
    list(grid = p$y[keep], lower = p$x[keep], upper = rev(p$x[(n + 1):(2 * n)])[keep])
  })
  list(yaxis = yaxis, x = as.numeric(drawn$sav$x), y = as.numeric(drawn$sav$y), xlim = drawn$xlim,
       ylim = drawn$ylim, regions = regions, every = every)
}

methods_cumul <- function(fit, key, decreasing, measure) {
  # do.call puts the key's values into the call: cumul() looks a bare name up in the data.
  cu <- do.call(cumul, list(fit, order = key, decreasing = decreasing))
  out <- list(decreasing = decreasing, estimate = cu$estimate, se = cu$se, stat = cu[[3]],
              pval = cu$pvals, ci_low = cu$ci.lb, ci_high = cu$ci.ub, q = cu$Q, q_p = cu$Qp,
              tau2 = if (is.null(cu$tau2)) rep(0, length(cu$estimate)) else cu$tau2,
              i2 = cu$I2, h2 = cu$H2, slab = as.character(cu$slab))
  if (measure == "PLO") {
    back <- do.call(cumul, list(fit, order = key, decreasing = decreasing,
                                transf = transf.ilogit))
    out$back_estimate <- back$estimate
    out$back_ci_low <- back$ci.lb
    out$back_ci_high <- back$ci.ub
  }
  out
}

methods_baujat <- function(fit) {
  drawn <- methods_drawn(function() baujat(fit))
  list(x = drawn$sav$x, y = drawn$sav$y, ids = drawn$sav$ids)
}

methods_predict <- function(fit) {
  lapply(c(default = "default", riley = "riley", t = "t", simple = "simple"), function(type) {
    p <- predict(fit, pi.type = type)
    list(pi_type = type, pi_low = if (is.null(p$pi.lb)) NA else p$pi.lb,
         pi_high = if (is.null(p$pi.ub)) NA else p$pi.ub,
         pi_df = if (is.null(p$pi.ddf)) NA else p$pi.ddf)
  })
}

methods_try <- function(expr) tryCatch(suppressWarnings(expr),
                                       error = function(e) list(error = conditionMessage(e)))

oracle_methods <- function(case) {
  yi <- as.numeric(case$yi); vi <- as.numeric(case$vi); ni <- as.numeric(case$ni)
  fit <- suppressWarnings(rma(yi, vi, ni = ni, method = case$method, test = case$test,
                              level = case$level, slab = paste0("s", seq_along(yi))))
  every <- if (is.null(case$every)) 1 else case$every
  list(
    fit = list(estimate = c(fit$beta), se = fit$se, tau2 = fit$tau2, test = fit$test),
    funnel = lapply(c("sei", "vi", "seinv", "vinv", "ni", "ninv", "sqrtni", "sqrtninv", "lni",
                      "wi"),
                    function(yaxis) methods_try(methods_funnel(fit, yaxis, case$levels,
                                                               isTRUE(case$addtau2), every))),
    cumul = list(methods_try(methods_cumul(fit, case$key, FALSE, case$measure)),
                 methods_try(methods_cumul(fit, case$key, TRUE, case$measure))),
    baujat = methods_try(methods_baujat(fit)),
    predict = methods_try(methods_predict(fit)))
}

oracle_methods_batch <- function(cases) lapply(cases, oracle_methods)

# The pinned cases: metadat datasets and the edges the brief names (k = 1, 2, 3, tau2 = 0 at
# the boundary, zero- and all-event studies). Each case carries its data so Python needs no
# R to compare.
methods_cases <- function() {
  plo <- function(x, n) { es <- escalc("PLO", xi = x, ni = n); list(yi = c(es$yi), vi = c(es$vi), ni = n) }
  pr <- with(dat.pritz1997, plo(xi, ni))
  bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  edge <- plo(c(0, 12, 30, 7, 9), c(14, 12, 60, 25, 40))   # one zero-event, one all-event study
  data <- list(
    pritz1997 = c(pr, list(measure = "PLO", key = seq_along(pr$yi) %% 4)),  # ties in the key
    bcg = list(yi = c(bcg$yi), vi = c(bcg$vi), ni = with(dat.bcg, tpos + tneg + cpos + cneg),
               measure = "GEN", key = dat.bcg$year),
    zero_all = c(edge, list(measure = "PLO", key = c(2021, 2019, 2023, 2019, 2020))),
    k1 = c(plo(7, 20), list(measure = "PLO", key = 1)),
    k2 = c(plo(c(7, 15), c(20, 25)), list(measure = "PLO", key = c(2, 1))),
    k3 = c(plo(c(7, 15, 3), c(20, 25, 30)), list(measure = "PLO", key = c(3, 1, 2))),
    homogeneous = list(yi = c(0.40, 0.42, 0.41, 0.39), vi = c(0.05, 0.04, 0.06, 0.05),
                       ni = c(80, 100, 70, 80), measure = "GEN", key = c(4, 3, 2, 1)))
  cases <- list()
  for (name in names(data)) {
    for (setting in list(c("REML", "z"), c("REML", "knha"), c("DL", "t"), c("FE", "z"))) {
      cases[[length(cases) + 1]] <- c(data[[name]], list(
        id = paste(name, setting[1], setting[2], sep = "-"), method = setting[1],
        test = setting[2], level = 95, levels = c(90, 95, 99), addtau2 = setting[1] == "DL",
        every = 111))
    }
  }
  cases
}

make_reference_methods <- function(dir) {
  cases <- methods_cases()
  answers <- lapply(cases, function(case) list(case = case, metafor = oracle_methods(case)))
  write_reference(answers, file.path(dir, "methods.json"))
}
