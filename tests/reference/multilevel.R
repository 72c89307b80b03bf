# Reference values for tracking_evidence.stats.multilevel (pool_multilevel, robust), computed by R's
# metafor (rma.mv, rma) and clubSandwich (coef_test, conf_int).
#
# Run from the repository root (`make references`, or `Rscript tests/reference/multilevel.R`).
# Writes tests/reference/multilevel.json: the inputs (metadat's three-level examples and seeded
# simulated data sets) and, for each, what these report:
#
# - rma.mv(yi, vi, mods, random = ~ 1 | study/estimate, method = "REML" or "ML"): coefficients,
#   SEs, z tests, CIs, vcov, the two variance components, QE and its p-value, logLik, and for
#   intercept-only models predict()'s prediction interval;
# - clubSandwich::coef_test(fit, vcov = "CR2" / "CR1" / "CR0", cluster, test = "Satterthwaite")
#   and conf_int(fit, vcov = "CR2", cluster) for those rma.mv fits, for rma() random-effects
#   pooling (tracking_evidence.stats.meta.pool) and for rma(mods = ...) (metareg).
#
# rma.mv is run with metafor's defaults: nlminb on the log variance components, with numerical
# derivatives. It stops a few 1e-8 (at worst a few 1e-7) short of the maximum in the variance
# components: other optimisers and settings (nlm, bobyqa, BFGS; tighter tolerances, where nlminb
# still converges) move them by that much while the log-likelihood agrees to 1e-13. A component
# on the boundary comes back as a tiny positive number (1e-10 or so) where ours is exactly 0.
# Everything else rma.mv reports is exact given its variance components: the Python tests refit
# with the components fixed at R's values and compare those to 1e-9, then compare the components
# and everything else at our own maximum to 1e-6, and check that our log-likelihood is never
# below R's.
suppressPackageStartupMessages({
  library(metafor)
  library(clubSandwich)
  library(metadat)
  library(jsonlite)
})

num <- function(x) as.numeric(x)
datasets <- list()

# The same data passed to Python: estimates, variances, study and estimate ids (1..), moderators
# (numeric columns, named), and the clustering variables the robust tests use.
add_dataset <- function(name, yi, vi, study, estimate, mods = list(), clusters = list(), source) {
  datasets[[name]] <<- list(yi = num(yi), vi = num(vi), study = as.integer(study),
                            estimate = as.integer(estimate), mods = mods, clusters = clusters,
                            source = source)
}

# metadat: Konstantopoulos (2011), 56 schools in 11 districts (standardised mean differences of
# a modified school calendar); the estimate level is school within district.
k11 <- dat.konstantopoulos2011
add_dataset("konstantopoulos2011", k11$yi, k11$vi, as.integer(factor(k11$district)), k11$school,
            mods = list(year = num(k11$year)), clusters = list(district = as.integer(factor(k11$district))),
            source = "metadat dat.konstantopoulos2011 (study = district, estimate = school)")

# metadat: Assink et al. (2016), 100 effect sizes in 17 studies (parental delinquency and
# offspring delinquency); deltype as two dummies with "general" as the reference category.
a16 <- dat.assink2016
add_dataset("assink2016", a16$yi, a16$vi, a16$study, a16$esid,
            mods = list(year = num(a16$year), deltype_covert = num(a16$deltype == "covert"),
                        deltype_overt = num(a16$deltype == "overt")),
            clusters = list(study = a16$study),
            source = "metadat dat.assink2016 (study, esid); deltype dummies, reference 'general'")

# Simulated (seeded) data sets: y_ij = b0 + b1 x_ij + u_i + w_ij + e_ij.
simulate <- function(sizes, s2_study, s2_within, beta = c(0.2, 0.3), vlow = 0.01, vhigh = 0.1) {
  study <- rep(seq_along(sizes), sizes)
  estimate <- sequence(sizes)
  k <- length(study)
  vi <- runif(k, vlow, vhigh)
  x <- rnorm(k)
  u <- rnorm(length(sizes), 0, sqrt(s2_study))[study]
  yi <- beta[1] + beta[2] * x + u + rnorm(k, 0, sqrt(s2_within)) + rnorm(k, 0, sqrt(vi))
  list(yi = yi, vi = vi, study = study, estimate = estimate, x = x)
}

set.seed(20261126)
s <- simulate(rep(4, 30), 0.04, 0.02)
add_dataset("sim_balanced", s$yi, s$vi, s$study, s$estimate, mods = list(x = s$x),
            clusters = list(study = s$study),
            source = "simulated: 30 studies x 4 estimates, sigma2 = (0.04, 0.02), yi = 0.2 + 0.3 x + ..., seed 20261126")

sizes <- sample(c(1, 1, 2, 2, 3, 5, 8, 13, 20), 40, replace = TRUE)
s <- simulate(sizes, 0.1, 0.03)
add_dataset("sim_unbalanced", s$yi, s$vi, s$study, s$estimate, mods = list(x = s$x),
            clusters = list(study = s$study, lab = (s$study + 1) %/% 2),
            source = "simulated: 40 studies of 1 to 20 estimates, sigma2 = (0.1, 0.03), seed 20261126 (continued); lab = pairs of studies")

# sigma2_study on the boundary: each study's estimates are centred on the same value, so the
# study means do not vary and REML puts the study-level variance at 0.
sizes <- sample(2:6, 20, replace = TRUE)
s <- simulate(sizes, 0, 0.05, beta = c(0, 0))
s$yi <- s$yi - ave(s$yi, s$study) + 0.2
add_dataset("sim_study_zero", s$yi, s$vi, s$study, s$estimate, mods = list(x = s$x),
            clusters = list(study = s$study),
            source = "simulated: 20 studies of 2 to 6 estimates, study means set equal (0.2), seed 20261126 (continued)")

# sigma2_within on the boundary: the first seed (from 1) at which REML puts it at 0.
for (seed in 1:200) {
  set.seed(seed)
  s <- simulate(sample(2:5, 25, replace = TRUE), 0.08, 0, beta = c(0.1, 0))
  fit <- rma.mv(s$yi, s$vi, random = list(~ 1 | study/estimate), data = data.frame(study = s$study, estimate = s$estimate))
  if (fit$sigma2[2] < 1e-6) break
}
add_dataset("sim_within_zero", s$yi, s$vi, s$study, s$estimate, mods = list(x = s$x),
            clusters = list(study = s$study),
            source = sprintf("simulated: 25 studies of 2 to 5 estimates, sigma2 = (0.08, 0), seed %d (the first from 1 with REML sigma2_within at 0)", seed))

# One estimate per study: the two components are not separately identified (only their sum).
set.seed(20261127)
s <- simulate(rep(1, 25), 0.05, 0, beta = c(0.3, 0))
add_dataset("sim_singletons", s$yi, s$vi, s$study, s$estimate,
            clusters = list(study = s$study, pair = (s$study + 1) %/% 2),
            source = "simulated: 25 studies of 1 estimate, tau2 = 0.05, seed 20261127")

fit_mv <- function(d, method, terms) {
  dd <- data.frame(yi = d$yi, vi = d$vi, study = d$study, estimate = d$estimate)
  if (!length(terms)) return(rma.mv(yi, vi, random = ~ 1 | study/estimate, data = dd, method = method))
  X <- do.call(cbind, d$mods[terms])
  rma.mv(yi, vi, mods = X, random = ~ 1 | study/estimate, data = dd, method = method)
}

robust_rows <- function(fit, cluster) {
  out <- list()
  for (type in c("CR2", "CR1", "CR0")) {
    ct <- coef_test(fit, vcov = type, cluster = cluster, test = "Satterthwaite")
    ci <- conf_int(fit, vcov = type, cluster = cluster, level = 0.95)
    vc <- vcovCR(fit, type = type, cluster = cluster)
    out[[type]] <- list(coef = num(ct$beta), se = num(ct$SE), tstat = num(ct$tstat), df = num(ct$df_Satt),
                        pvalue = num(ct$p_Satt), ci_low = num(ci$CI_L), ci_high = num(ci$CI_U),
                        vcov = unname(as.matrix(vc)))
  }
  out
}

mv_rows <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  mod_sets <- list(character(0))
  if (length(d$mods)) mod_sets <- c(mod_sets, list(names(d$mods)))
  if (name == "assink2016") mod_sets <- c(mod_sets, list("year"))
  if (name == "sim_singletons") mod_sets <- list(character(0))
  for (terms in mod_sets) {
    for (method in c("REML", "ML")) {
      fit <- fit_mv(d, method, terms)
      row <- list(data = name, method = method, terms = I(c("intercept", terms)), k = fit$k,
                  n_studies = length(unique(d$study)),
                  coef = num(fit$beta), se = num(fit$se), zval = num(fit$zval), pval = num(fit$pval),
                  ci_low = num(fit$ci.lb), ci_high = num(fit$ci.ub), vcov = unname(fit$vb),
                  sigma2_study = fit$sigma2[1], sigma2_within = fit$sigma2[2],
                  qe = fit$QE, qe_df = fit$k - fit$p, qe_pvalue = fit$QEp,
                  loglik = num(logLik(fit)), pi_low = NA_real_, pi_high = NA_real_)
      if (!length(terms)) {
        pr <- predict(fit)
        row$pi_low <- num(pr$pi.lb)
        row$pi_high <- num(pr$pi.ub)
      }
      row$robust <- lapply(d$clusters, function(cl) robust_rows(fit, cl))
      mv_rows[[length(mv_rows) + 1]] <- row
    }
  }
}

# rma(): random-effects pooling and meta-regression that ignore the dependence, with cluster-
# robust inference by study (the working model is rma's: weights 1 / (vi + tau2)). REML is run to
# a change in tau2 below 1e-12 (metafor's default stops at 1e-5), as in metafor.R.
ctrl <- list(threshold = 1e-12, maxiter = 10000)
uni_rows <- list()
for (name in c("konstantopoulos2011", "assink2016", "sim_unbalanced", "sim_singletons")) {
  d <- datasets[[name]]
  mod_sets <- list(character(0))
  if (length(d$mods)) mod_sets <- c(mod_sets, list(names(d$mods)))
  for (terms in mod_sets) {
    for (method in c("REML", "DL", "FE")) {
      fit <- if (length(terms)) rma(d$yi, d$vi, mods = do.call(cbind, d$mods[terms]), method = method, control = ctrl)
             else rma(d$yi, d$vi, method = method, control = ctrl)
      uni_rows[[length(uni_rows) + 1]] <- list(
        data = name, method = method, terms = I(c("intercept", terms)), coef = num(fit$beta),
        se = num(fit$se), tau2 = fit$tau2, robust = lapply(d$clusters, function(cl) robust_rows(fit, cl)))
    }
  }
}

out <- list(
  generated_by = "tests/reference/multilevel.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  clubSandwich_version = as.character(packageVersion("clubSandwich")),
  metadat_version = as.character(packageVersion("metadat")),
  notes = paste("rma.mv with metafor's default optimiser (nlminb on log sigma2): variance components within",
                "a few 1e-8 of the maximum; a component on the boundary is a tiny positive number. rma(): threshold 1e-12.",
                "robust: clubSandwich coef_test(test = 'Satterthwaite') and conf_int(level = 0.95), by the",
                "named clustering variable; vcov is vcovCR(type)."),
  datasets = datasets, rma_mv = mv_rows, rma_uni = uni_rows)
write_json(out, "tests/reference/multilevel.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote tests/reference/multilevel.json\n")
