# Regenerate the pinned metafor reference JSON in reference/ (run by `make oracle`).
#
# Sources every per-topic script in r/ (functions only) and calls each make_reference_*()
# it defines. Run from tests/oracle:  Rscript make_reference.R
suppressPackageStartupMessages({
  library(jsonlite)
  library(metafor)
  library(metadat)
})

write_reference <- function(answers, path) {
  header <- list(
    generated_by = "tests/oracle/make_reference.R",
    r_version = paste(R.version$major, R.version$minor, sep = "."),
    metafor_version = as.character(packageVersion("metafor")),
    metadat_version = as.character(packageVersion("metadat")),
    cases = answers
  )
  # Same encoding as the live server: 15 significant digits, non-finite values as strings.
  writeLines(toJSON(header, digits = NA, auto_unbox = TRUE, na = "string", null = "null",
                    pretty = TRUE), path)
  cat("wrote", path, "(", length(answers), "cases )\n")
}

for (script in setdiff(list.files("r", pattern = "[.]R$", full.names = TRUE), "r/server.R")) {
  source(script, local = globalenv())
}
dir.create("reference", showWarnings = FALSE)
for (maker in sort(ls(globalenv(), pattern = "^make_reference_"))) {
  get(maker)("reference")
}
