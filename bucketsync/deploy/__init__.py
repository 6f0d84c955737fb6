"""Deploy-side tooling: the SAM template, the stack, its versions and the
deploy `fab` tasks. Never shipped inside the Lambda zip."""
