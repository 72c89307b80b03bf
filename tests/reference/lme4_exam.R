# Reference fits for tracking_evidence.analyses.peers (book/peers.md): the peer-composition models of the
# inner-London Exam data, fitted by lme4::lmer (REML) on the book's CSV extract.
#
# Run from the repository root (`make references`). Reads data/exam.csv; the student's own band is
# mlmRev's `intake` with its labels reversed ("bottom 25%" is the top band: see the docstring of
# tracking_evidence.analyses.peers); the script checks that ordering on mlmRev's own copy of the data too.
# For each student, the mean standlrt and the shares of top- and bottom-band students among the
# *other* students of the school (leave-one-out). For each band:
#   mean:   normexam ~ standlrt + peer_mean + (1 | school)
#   shares: normexam ~ standlrt + peer_top + peer_bottom + (1 | school)
#   controls: normexam ~ standlrt + peer_mean + sex + schgend + (1 | school)
# And all bands together, by ML, with one intercept, own-score slope and peer-mean slope per band:
#   pooled: normexam ~ 0 + band + standlrt:band + peer_mean:band + (1 | school)
# with the Wald test that the three peer-mean slopes are equal (2 df).
# Writes tests/reference/lme4_exam.json: fixed effects, standard errors, variance components,
# REML criterion, sample sizes, convergence messages, the pooled test and the mlmRev label check.
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
  library(mlmRev)
})

exam <- read.csv("data/exam.csv", stringsAsFactors = FALSE)
stopifnot(nrow(exam) == 4059)
own <- c("bottom 25%" = "top", "mid 50%" = "middle", "top 25%" = "bottom")
exam$band <- unname(own[exam$intake])
stopifnot(!anyNA(exam$band))

n <- ave(exam$standlrt, exam$school, FUN = length)
stopifnot(all(n > 1))
exam$peer_mean <- (ave(exam$standlrt, exam$school, FUN = sum) - exam$standlrt) / (n - 1)
top <- as.numeric(exam$band == "top")
bottom <- as.numeric(exam$band == "bottom")
exam$peer_top <- (ave(top, exam$school, FUN = sum) - top) / (n - 1)
exam$peer_bottom <- (ave(bottom, exam$school, FUN = sum) - bottom) / (n - 1)

# mlmRev's own data: same rows, and the mean intake score by its `intake` label
data(Exam, package = "mlmRev")
label_means <- tapply(Exam$standLRT, Exam$intake, mean)

formulas <- list(
  mean = normexam ~ standlrt + peer_mean + (1 | school),
  shares = normexam ~ standlrt + peer_top + peer_bottom + (1 | school),
  controls = normexam ~ standlrt + peer_mean + sex + schgend + (1 | school)
)
fits <- list()
for (spec in names(formulas)) {
  for (b in c("bottom", "middle", "top")) {
    d <- exam[exam$band == b, ]
    messages <- character(0)
    fit <- withCallingHandlers(
      lmer(formulas[[spec]], data = d, REML = TRUE),
      warning = function(w) { messages <<- c(messages, conditionMessage(w)); invokeRestart("muffleWarning") })
    vc <- as.data.frame(VarCorr(fit))
    fe <- summary(fit)$coefficients
    fits[[length(fits) + 1]] <- list(
      spec = spec, band = b, n_students = nrow(d), n_schools = length(unique(d$school)),
      fixef = as.list(fe[, "Estimate"]), se = as.list(fe[, "Std. Error"]),
      tau2 = vc$vcov[vc$grp == "school"], sigma2 = vc$vcov[vc$grp == "Residual"],
      reml_criterion = unname(REMLcrit(fit)),
      messages = c(messages, fit@optinfo$conv$lme4$messages)
    )
  }
}

exam$band <- factor(exam$band, levels = c("bottom", "middle", "top"))
pooled_messages <- character(0)
pooled <- withCallingHandlers(
  lmer(normexam ~ 0 + band + standlrt:band + peer_mean:band + (1 | school), data = exam, REML = FALSE),
  warning = function(w) { pooled_messages <<- c(pooled_messages, conditionMessage(w)); invokeRestart("muffleWarning") })
terms <- paste0("band", levels(exam$band), ":peer_mean")
slopes <- fixef(pooled)[terms]
V <- as.matrix(vcov(pooled))[terms, terms]
L <- rbind(c(1, -1, 0), c(0, 1, -1))
d <- L %*% slopes
wald <- as.numeric(t(d) %*% solve(L %*% V %*% t(L)) %*% d)
pooled_fit <- list(
  slopes = as.list(setNames(unname(slopes), levels(exam$band))),
  wald = wald, df = 2, p_value = pchisq(wald, 2, lower.tail = FALSE),
  loglik = as.numeric(logLik(pooled)), n_students = nrow(exam),
  messages = c(pooled_messages, pooled@optinfo$conv$lme4$messages)
)

out <- list(
  generated_by = "tests/reference/lme4_exam.R",
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  mlmrev_version = as.character(packageVersion("mlmRev")),
  mlmrev_rows = nrow(Exam),
  mlmrev_mean_standLRT_by_intake = as.list(label_means),
  fits = fits,
  pooled = pooled_fit
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/lme4_exam.json")
