"""SQLite access for the van: connections, migrations, repositories, outbox and inbox."""
