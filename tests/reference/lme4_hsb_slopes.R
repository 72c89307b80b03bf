# Reference fits of the one-stage random-slope models of book/pooling.md, by lme4.
#
# Run from the repository root (`make references`). Reads data/hsb_students.csv and
# data/hsb_schools.csv (High School and Beyond, nlme's MathAchieve and MathAchSchool), centres SES
# on each school's mean of the students in the file (cses), and fits by REML, random intercept
# and cses slope by school (unstructured 2 x 2 covariance):
#   simple:   mathach ~ cses + (1 + cses | school)
#   moderated: mathach ~ cses * (pracad + catholic) + (1 + cses | school)
# with two optimizers (bobyqa, Nelder_Mead). Writes tests/reference/lme4_hsb_slopes.json: REML
# log-likelihood, fixed effects and their standard errors, variance components, convergence
# messages. tracking_evidence.analyses.pooling compares statsmodels' MixedLM against it.
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

students <- read.csv("data/hsb_students.csv")
schools <- read.csv("data/hsb_schools.csv")
hsb <- merge(students, schools, by = "school", all.x = TRUE, sort = FALSE)
stopifnot(nrow(hsb) == 7185, !anyNA(hsb$sector))
hsb$cses <- hsb$ses - ave(hsb$ses, hsb$school)
hsb$catholic <- as.integer(hsb$sector == "Catholic")

formulas <- list(
  simple = mathach ~ cses + (1 + cses | school),
  moderated = mathach ~ cses * (pracad + catholic) + (1 + cses | school)
)

fits <- list()
for (name in names(formulas)) {
  for (opt in c("bobyqa", "Nelder_Mead")) {
    messages <- character(0)
    fit <- withCallingHandlers(
      lmer(formulas[[name]], data = hsb, REML = TRUE,
           control = lmerControl(optimizer = opt, optCtrl = list(maxfun = 1e5))),
      warning = function(w) { messages <<- c(messages, conditionMessage(w)); invokeRestart("muffleWarning") })
    vc <- as.data.frame(VarCorr(fit))
    fe <- summary(fit)$coefficients
    fits[[length(fits) + 1]] <- list(
      model = name, optimizer = opt,
      loglik_reml = as.numeric(logLik(fit)),
      reml_criterion = as.numeric(REMLcrit(fit)),
      fixef_names = I(rownames(fe)), fixef = I(as.numeric(fe[, "Estimate"])), fixef_se = I(as.numeric(fe[, "Std. Error"])),
      var_intercept = vc$vcov[vc$var1 == "(Intercept)" & is.na(vc$var2) & vc$grp == "school"],
      var_slope = vc$vcov[vc$var1 == "cses" & is.na(vc$var2) & vc$grp == "school"],
      cov_intercept_slope = vc$vcov[vc$var1 == "(Intercept)" & !is.na(vc$var2) & vc$var2 == "cses"],
      var_residual = vc$vcov[vc$grp == "Residual"],
      messages = I(c(messages, fit@optinfo$conv$lme4$messages)))
  }
}

out <- list(
  generated_by = "tests/reference/lme4_hsb_slopes.R",
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  n_students = nrow(hsb), n_schools = length(unique(hsb$school)),
  fits = fits)
write_json(out, "tests/reference/lme4_hsb_slopes.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote tests/reference/lme4_hsb_slopes.json\n")
