// Placeholder: implemented in its own step.
