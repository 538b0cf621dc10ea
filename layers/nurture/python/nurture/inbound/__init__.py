"""What SES receiving hands to a function: each received message's receipt, its bytes stored in S3."""
