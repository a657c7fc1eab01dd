from app.core.errors import AppError


class InvalidActivationCode(AppError):
    status_code, code = 400, "invalid_activation_code"
    keep_writes = True  # the failed guess is counted for throttling
