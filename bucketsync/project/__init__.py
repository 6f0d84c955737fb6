"""What `fab`'s local runs (bucketsync.local) and deploy tasks
(bucketsync.deploy) share, so that neither imports the other: the project's
own files (the Lambda files' front matter, the state machine definition, the
settings file fabfile_config.py) and the command line's conventions (a sync's
options and execution input, a run's printed outcome, exit statuses).
Uses PyYAML and rich: never shipped inside the Lambda zip."""
