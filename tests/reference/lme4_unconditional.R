# Reference fits for tracking_evidence.analyses.gaps.variance_decomposition: the unconditional two-level
# model y_ij = g00 + u_0j + e_ij fitted by REML with lme4::lmer on the book's own CSV extracts.
# Writes tests/reference/lme4_unconditional.json (read by tests/test_gaps.py; no R needed there).
# Run from the repository root: `Rscript tests/reference/lme4_unconditional.R` (or `make references`).
suppressPackageStartupMessages({
  library(lme4)
})

fit_unconditional <- function(data, outcome, cluster, label) {
  f <- as.formula(sprintf("%s ~ 1 + (1 | %s)", outcome, cluster))
  m <- lmer(f, data = data, REML = TRUE)
  vc <- as.data.frame(VarCorr(m))
  tau2 <- vc$vcov[vc$grp == cluster]
  sigma2 <- vc$vcov[vc$grp == "Residual"]
  list(
    label = label,
    outcome = outcome,
    cluster = cluster,
    n = nrow(data),
    n_clusters = length(unique(data[[cluster]])),
    grand_mean = unname(fixef(m)[1]),
    se_grand_mean = unname(sqrt(diag(as.matrix(vcov(m))))[1]),
    tau2 = tau2,
    sigma2 = sigma2,
    icc = tau2 / (tau2 + sigma2),
    reml_criterion = unname(REMLcrit(m))
  )
}

json_value <- function(x) {
  if (is.character(x)) return(sprintf('"%s"', x))
  if (is.numeric(x) && x == round(x) && abs(x) < 1e9) return(sprintf("%d", as.integer(x)))
  sprintf("%.10g", x)
}
json_object <- function(fit) {
  fields <- vapply(names(fit), function(k) sprintf('    "%s": %s', k, json_value(fit[[k]])), character(1))
  paste0("  {\n", paste(fields, collapse = ",\n"), "\n  }")
}

hsb <- read.csv("data/hsb_students.csv")
eg <- read.csv("data/egsingle.csv")
exam <- read.csv("data/exam.csv")

fits <- list(fit_unconditional(hsb, "mathach", "school", "hsb"))
for (g in 0:4) {
  fits[[length(fits) + 1]] <- fit_unconditional(eg[eg$grade == g, ], "math", "schoolid", sprintf("egsingle_grade%d", g))
}
fits[[length(fits) + 1]] <- fit_unconditional(exam, "normexam", "school", "exam")

header <- sprintf('  "generated_by": "tests/reference/lme4_unconditional.R with R %s, lme4 %s",\n',
                  paste(R.version$major, R.version$minor, sep = "."), as.character(packageVersion("lme4")))
body <- paste0('  "fits": [\n', paste(vapply(fits, json_object, character(1)), collapse = ",\n"), "\n  ]\n")
writeLines(paste0("{\n", header, body, "}"), "tests/reference/lme4_unconditional.json")
cat("wrote tests/reference/lme4_unconditional.json\n")
