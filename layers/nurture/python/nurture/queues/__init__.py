"""SQS consumers: parse each record, call the domain, report failures record by record."""
