"""The DataSync branch of a run (shipped): the `datasync` input, its date
templates and filters, the tasks, the steps that start and follow an
execution, and its notifications. The local stand-in for DataSync and
`fab datasync-preview` are local-only: `bucketsync.local.datasync` and
`bucketsync.local.datasync_preview`."""
