"""The four countries, their first-level regions and calling codes (static reference data)."""

from app.core.text import fold

COUNTRY_NAMES = {"PE": "Perú", "CL": "Chile", "CO": "Colombia", "MX": "México"}
CALLING_CODES = {"PE": "51", "CL": "56", "CO": "57", "MX": "52"}
DOCUMENT_TYPES = {"PE": "DNI", "CL": "RUN", "CO": "CC", "MX": "CURP"}

REGIONS: dict[str, tuple[str, ...]] = {
    "PE": (
        "Amazonas", "Áncash", "Apurímac", "Arequipa", "Ayacucho", "Cajamarca", "Callao", "Cusco",
        "Huancavelica", "Huánuco", "Ica", "Junín", "La Libertad", "Lambayeque", "Lima", "Loreto",
        "Madre de Dios", "Moquegua", "Pasco", "Piura", "Puno", "San Martín", "Tacna", "Tumbes", "Ucayali",
    ),
    "CL": (
        "Arica y Parinacota", "Tarapacá", "Antofagasta", "Atacama", "Coquimbo", "Valparaíso",
        "Metropolitana de Santiago", "Libertador General Bernardo O'Higgins", "Maule", "Ñuble", "Biobío",
        "La Araucanía", "Los Ríos", "Los Lagos", "Aysén del General Carlos Ibáñez del Campo",
        "Magallanes y de la Antártica Chilena",
    ),
    "CO": (
        "Amazonas", "Antioquia", "Arauca", "Atlántico", "Bogotá D.C.", "Bolívar", "Boyacá", "Caldas",
        "Caquetá", "Casanare", "Cauca", "Cesar", "Chocó", "Córdoba", "Cundinamarca", "Guainía", "Guaviare",
        "Huila", "La Guajira", "Magdalena", "Meta", "Nariño", "Norte de Santander", "Putumayo", "Quindío",
        "Risaralda", "San Andrés y Providencia", "Santander", "Sucre", "Tolima", "Valle del Cauca", "Vaupés",
        "Vichada",
    ),
    "MX": (
        "Aguascalientes", "Baja California", "Baja California Sur", "Campeche", "Chiapas", "Chihuahua",
        "Ciudad de México", "Coahuila", "Colima", "Durango", "Estado de México", "Guanajuato", "Guerrero",
        "Hidalgo", "Jalisco", "Michoacán", "Morelos", "Nayarit", "Nuevo León", "Oaxaca", "Puebla",
        "Querétaro", "Quintana Roo", "San Luis Potosí", "Sinaloa", "Sonora", "Tabasco", "Tamaulipas",
        "Tlaxcala", "Veracruz", "Yucatán", "Zacatecas",
    ),
}

# Peru's cohort comes from these four regions; the other countries start with all of theirs.
DEFAULT_ELIGIBLE_REGIONS: dict[str, tuple[str, ...]] = {
    "PE": ("Huancavelica", "Cajamarca", "Amazonas", "Apurímac"),
    "CL": REGIONS["CL"],
    "CO": REGIONS["CO"],
    "MX": REGIONS["MX"],
}


_CANONICAL = {code: {fold(name): name for name in names} for code, names in REGIONS.items()}


def canonical_region(country: str, region: str) -> str | None:
    """The region's official spelling, matched regardless of case and accents ("apurimac" → "Apurímac")."""
    return _CANONICAL.get(country, {}).get(fold(region))
