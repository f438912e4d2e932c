package db

// MigrateBefore applies the migrations older than version.
var MigrateBefore = migrateBefore
