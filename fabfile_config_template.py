"""bucketsync deploy settings.

Copy this file to `fabfile_config.py` (which git ignores), edit it, then run
`fab deploy`. Every name below is a setting; a name that is not listed here is
an error (so a typo cannot be silently ignored). Command-line flags of `fab`
tasks override these values.
"""

# AWS region of the stack (the buckets may live in other regions).
REGION = "eu-west-1"

# Named profile from ~/.aws/config to deploy with; None uses the default chain.
PROFILE = None

# CloudFormation stack name; also the prefix of the functions' names, the state
# machine's name and the schedules' names. Letters, digits and hyphens.
STACK_NAME = "bucketsync"

# Instruction set of every Lambda function: "arm64" (Graviton, cheaper per
# GB-second) or "x86_64". The one code zip carries the AWS Common Runtime
# (awscrt) built for it, so a function's front matter may not name another.
LAMBDA_ARCHITECTURE = "arm64"

# The only buckets the deployed functions may read (list, get objects and tags)...
SOURCE_BUCKETS = ["my-source-bucket"]
# ...and the only buckets they may write to and delete from. A run whose input
# names another bucket fails with AccessDeniedError; a schedule that does is
# refused at deploy time.
DESTINATION_BUCKETS = ["my-destination-bucket"]

# Days the stack's work bucket keeps a run's scratch files and report. Keep it
# above your longest run (a DataSync transfer of days): a run that outlives
# its files fails with NoSuchKeyError, and deletes nothing.
WORK_BUCKET_RETENTION_DAYS = 14

# Notifications: one SNS message per finished execution. Give an email address
# to subscribe (AWS sends a confirmation mail first), an existing topic ARN to
# publish there instead of a topic of the stack's own, or neither for none.
NOTIFICATION_EMAIL = None
SNS_TOPIC_ARN = None
# "all": every run; "failure": failed runs only.
NOTIFY_ON = "all"
# Also notify when this many runs in a row copied nothing (None: never).
NOTIFY_AFTER_IDLE_RUNS = None

# EventBridge Scheduler schedules, each starting an execution on the `live`
# alias with a fixed input (validated at deploy time like any execution input).
# Expressions: "cron(minutes hours day-of-month month day-of-week year)",
# "rate(N minutes|hours|days)" or "at(yyyy-mm-ddThh:mm:ss)". The time zone is
# required: it is an IANA name such as "Europe/Paris" or "UTC".
SCHEDULES = [
    # {
    #     "name": "nightly",
    #     "expression": "cron(30 2 * * ? *)",
    #     "timezone": "Europe/Paris",
    #     "input": {"source": "my-source-bucket", "destination": "my-destination-bucket"},
    # },
]

# Reserved concurrency of the copy function (None: the account's pool), and how
# many chunks each Distributed Map works on at once. `fab deploy` lowers
# MAP_CONCURRENCY (and says so) to what the account's Lambda concurrency quota
# can run at once, and never above LAMBDA_CONCURRENCY.
LAMBDA_CONCURRENCY = None
MAP_CONCURRENCY = 40

# CloudWatch Logs retention of the functions and the state machine, in days.
LOG_RETENTION_DAYS = 30

# SSE-KMS: the ARNs of the customer managed keys that encrypt objects in the
# source and destination buckets (key ARNs, not aliases). The functions that
# read objects get kms:Decrypt, those that write get kms:GenerateDataKey and
# kms:Decrypt (multipart copies), only through S3 in the key's region
# (kms:ViaService). The key policy must also allow the account's IAM policies
# (the default key policy does). Keys that AWS manages (aws/s3) need nothing.
KMS_KEY_ARNS = []

# AWS DataSync tasks for bulk folders (README, "Bulk folders with AWS DataSync").
# An execution input names one in its `datasync` key. Per task: "source" is
# "s3://bucket/prefix/", or an EFS file system {"efs": <file system ARN>,
# "subnet": <subnet ARN>, "security_groups": [<security group ARNs>], "path": "/dir",
# optionally "access_point": <access point ARN>, "role": <IAM role ARN DataSync mounts
# with>, "in_transit_encryption": "TLS1_2" (the default) or "NONE"},
# or "file:///local/dir" (local runs only, standing in for EFS); "destination"
# is "s3://bucket/prefix/"; "options" are DataSync's Options by their API names
# (TransferMode, PreserveDeletedFiles, OverwriteMode, VerifyMode, LogLevel,
# TaskQueueing, ...). `fab deploy` creates the tasks, their locations, the role
# DataSync uses on the buckets, and (with notifications) an email per execution.
# Example:
#   DATASYNC_TASKS = {"images": {"source": "s3://camera-uploads/images/",
#                                "destination": "s3://camera-archive/images/"}}
DATASYNC_TASKS = {}

# Tags put on every resource of the stack.
TAGS = {"project": "bucketsync"}

# Published state machine versions to keep (Step Functions keeps at most 1,000);
# older ones are deleted on deploy, never the one the alias points at, and so
# are the function versions that no kept state machine version calls.
KEEP_VERSIONS = 20

# Secrets Manager secrets (names or ARNs) that hold the access key pairs of
# S3-compatible endpoints (or other AWS accounts) an execution input may name:
#   {"source": "b1", "destination": "b2",
#    "destination_endpoint": {"url": "https://s3.eu-west-1.lyvecloud.seagate.com",
#                             "region": "eu-west-1", "secret": "bucketsync/lyve"}}
# Each secret's value is JSON: {"access_key_id": "...", "secret_access_key": "..."}.
# The functions get secretsmanager:GetSecretValue on exactly these (and
# kms:Decrypt on KMS_KEY_ARNS through Secrets Manager, for a secret under a
# customer managed key); an input naming another secret is refused.
ENDPOINT_SECRETS = []

# Event-driven mirrors (README, "The event mirror"): S3 events of the source
# bucket reach, through EventBridge and an SQS queue, a function that
# reconciles each named key (copy, delete or nothing, by the full sync's rules).
# Turn on "Amazon EventBridge" in each source bucket's event notifications.
# Each entry: name, source, destination (names or s3://bucket/prefix), and
# optionally prefix, include, exclude, destination_endpoint (with a secret of
# ENDPOINT_SECRETS). A scheduled full sync remains the safety net.
# Example:
#   MIRRORS = [{"name": "photos", "source": "s3://camera-uploads/photos/",
#               "destination": "s3://photo-archive/photos/"}]
MIRRORS = []

# How many mirror functions run at once, at most (the SQS event source's
# MaximumConcurrency, 2 to 1,000; unbounded, SQS would scale to 1,000). They
# run from the account's unreserved Lambda concurrency: `fab deploy` counts
# this beside MAP_CONCURRENCY (and refuses a value that leaves the Map nothing).
MIRROR_CONCURRENCY = 5
