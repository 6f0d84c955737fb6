"""bucketsync: one-way S3 bucket sync, orchestrated by AWS Step Functions.

This package is shipped inside every Lambda zip, so it uses only the standard
library and boto3. The in-process engine (`bucketsync.local`) and the deploy
tooling (`bucketsync.deploy`) are never shipped.
"""

__version__ = "0.3.0"
