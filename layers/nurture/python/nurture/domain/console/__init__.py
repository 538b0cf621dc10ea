"""The marketer's console (issue 23): who may see and do what, and the views its pages show."""
