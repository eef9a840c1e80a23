"""The report's tables, one module each: the review's Tables 1–4 and what it lacked."""

from postcart.report.tables.comparison import product_table
from postcart.report.tables.leave_one_out import loo_table
from postcart.report.tables.overlaps import overlap_table
from postcart.report.tables.pooled import pooled_table
from postcart.report.tables.products import product_table as approvals_table
from postcart.report.tables.realworld import realworld_table
from postcart.report.tables.salvage import salvage_table
from postcart.report.tables.studies import studies_table
from postcart.report.tables.summary import summary_table

__all__ = [
    "approvals_table",
    "loo_table",
    "overlap_table",
    "pooled_table",
    "product_table",
    "realworld_table",
    "salvage_table",
    "studies_table",
    "summary_table",
]
