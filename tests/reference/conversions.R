# Reference values for tracking_evidence.stats.conversions, computed by R.
#
# Run from the repository root (`make references`, or `Rscript tests/reference/conversions.R`).
# Writes tests/reference/conversions.json. Hedges' g and its variance come from metafor's escalc
# (measure = "SMD", its default exact small-sample correction and large-sample variance). The
# Debian build of metafor (3.8-1) predates conv.wald, so the Wald conversions (an interval, an
# exact p, a t statistic or a significance bound to an SE) are computed with R's qnorm, the
# formulas conv.wald implements.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out <- list(metafor_version = as.character(packageVersion("metafor")), r_version = R.version.string)

# Normand (1999), means, SDs and group sizes (metafor's own example data).
smd <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
              data = dat.normand1999)
out$smd_normand <- list(m1 = dat.normand1999$m1i, sd1 = dat.normand1999$sd1i, n1 = dat.normand1999$n1i,
                        m2 = dat.normand1999$m2i, sd2 = dat.normand1999$sd2i, n2 = dat.normand1999$n2i,
                        yi = as.numeric(smd$yi), vi = as.numeric(smd$vi))

# Seeded random inputs (simulated), small groups included (where the correction matters).
set.seed(20261207)
k <- 40
n1 <- sample(3:400, k, replace = TRUE); n2 <- sample(3:400, k, replace = TRUE)
m1 <- rnorm(k, 50, 10); m2 <- rnorm(k, 50, 10); sd1 <- runif(k, 2, 20); sd2 <- runif(k, 2, 20)
s <- escalc(measure = "SMD", m1i = m1, sd1i = sd1, n1i = n1, m2i = m2, sd2i = sd2, n2i = n2)
out$smd_random <- list(m1 = m1, sd1 = sd1, n1 = n1, m2 = m2, sd2 = sd2, n2 = n2,
                       yi = as.numeric(s$yi), vi = as.numeric(s$vi))

# Wald conversions.
est <- rnorm(k, 0, 0.4)
se <- runif(k, 0.01, 0.3)
level <- sample(c(0.90, 0.95, 0.99), k, replace = TRUE)
z <- qnorm(1 - (1 - level) / 2)
lo <- est - z * se; hi <- est + z * se
out$from_ci <- list(ci_low = lo, ci_high = hi, level = level, se = (hi - lo) / (2 * z))
p <- 2 * pnorm(-abs(est) / se)
out$from_p <- list(estimate = est, p = p, se = abs(est) / qnorm(p / 2, lower.tail = FALSE))
t <- est / se * sample(c(-1, 1), k, replace = TRUE)
out$from_t <- list(estimate = est, t = t, se = abs(est) / abs(t))
alpha <- sample(c(0.1, 0.05, 0.01, 0.001), k, replace = TRUE)
out$from_significance <- list(estimate = est, p_bound = alpha, se = abs(est) / qnorm(alpha / 2, lower.tail = FALSE))
b <- rnorm(k, 5, 3); se_b <- runif(k, 0.5, 3); sd_y <- runif(k, 5, 100)
out$from_coefficient <- list(b = b, se_b = se_b, sd_y = sd_y, estimate = b / sd_y, se = se_b / sd_y)

write_json(out, "tests/reference/conversions.json", digits = NA, auto_unbox = TRUE, pretty = FALSE)
cat("wrote tests/reference/conversions.json\n")
