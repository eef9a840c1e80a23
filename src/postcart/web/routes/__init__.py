"""The workbench's routes, one module per area; each route makes one core call."""
