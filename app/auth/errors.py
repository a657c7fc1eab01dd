from app.core.errors import AppError


class InvalidActivationCode(AppError):
    status_code, code = 400, "invalid_activation_code"
