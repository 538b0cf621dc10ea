"""Sales API function: lead lookup, lists by rank, feedback and erasure (IAM-authorized in AWS)."""

from nurture.http.app import api_handler
from nurture.http.sales_routes import register_sales_routes

lambda_handler = api_handler([register_sales_routes])
