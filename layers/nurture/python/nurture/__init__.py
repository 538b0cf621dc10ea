"""Nurture's shared library: the domain, the AWS adapters and the HTTP layer every function uses.

`nurture.cli` and `nurture.local` are developer tools and are left out of the Lambda layer.
"""
