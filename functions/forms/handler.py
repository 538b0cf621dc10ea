"""Forms function: lead capture (POST /v1/forms/{form_id}) and the API's OpenAPI document."""

from nurture.http.app import api_handler
from nurture.http.docs_routes import register_docs_routes
from nurture.http.forms_routes import register_form_routes

lambda_handler = api_handler([register_form_routes, register_docs_routes])
