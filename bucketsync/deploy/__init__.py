"""Deploy-side tooling (front matter, definition rendering; later SAM and
stack operations). Never shipped inside the Lambda zip."""
