"""The build: data validation, notebook execution with its cache, rendering, figure export and publishing."""
