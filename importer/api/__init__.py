"""What Octolane is: the Inbound API's payload and response models, endpoints and id fields.

Everything the importer knows of the API's shape lives here, so that sending,
reporting and a second target (the public API) name an endpoint, a path or an
id field from one place.
"""

from importer.api.endpoints import ENDPOINTS, ID_FIELDS, PATHS, RESPONSE_MODELS, Endpoint

__all__ = ["ENDPOINTS", "ID_FIELDS", "PATHS", "RESPONSE_MODELS", "Endpoint"]
