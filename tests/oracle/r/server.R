# One long-lived R process that answers metafor questions for the pytest session.
#
# Protocol (one JSON object per line, both ways):
#   request:  {"code": "<R expression that may use the variable d>", "data": {...}}
#   reply:    {"result": <value>}  or  {"error": "<R condition message>"}
# `d` is the request's "data" object parsed by jsonlite (arrays of numbers become vectors,
# arrays of objects stay lists).
# Anything the expression prints is swallowed so stdout carries only replies.
suppressPackageStartupMessages({
  library(jsonlite)
  library(metafor)
  library(metadat)
})
options(warn = 1)

# Per-topic helpers (functions only; r/rma.R, r/escalc.R, ...) are available to every request.
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
for (helper in setdiff(list.files(here, pattern = "[.]R$", full.names = TRUE), file.path(here, "server.R"))) {
  source(helper, local = globalenv())
}

reply <- function(value) {
  # digits = NA is jsonlite's maximum (15 significant digits). Non-finite doubles go out as
  # the strings "NA", "NaN", "Inf", "-Inf" (r_session.py turns them back into floats/None).
  line <- toJSON(value, digits = NA, auto_unbox = TRUE, na = "string", null = "null")
  cat(line, "\n", sep = "")
  flush(stdout())
}

input <- file("stdin", open = "r")
while (length(line <- readLines(input, n = 1L, warn = FALSE)) > 0L) {
  if (!nzchar(trimws(line))) next
  answer <- tryCatch({
    request <- fromJSON(line, simplifyVector = TRUE, simplifyDataFrame = FALSE)
    env <- new.env(parent = globalenv())
    env$d <- request$data
    value <- NULL
    junk <- capture.output(value <- eval(parse(text = request$code), envir = env))
    list(result = value)
  }, error = function(e) list(error = conditionMessage(e)))
  reply(answer)
}
