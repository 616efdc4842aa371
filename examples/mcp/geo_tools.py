"""A tiny MCP server for examples/mcp-tools.ddc.yaml: two geography tools over stdio (FastMCP, the official
mcp SDK; `pip install 'ddc[mcp]'`)."""

from mcp.server.fastmcp import FastMCP

CAPITALS = {"france": "Paris", "japan": "Tokyo", "kenya": "Nairobi", "peru": "Lima", "canada": "Ottawa"}
POPULATION_MILLIONS = {"france": 68.4, "japan": 124.5, "kenya": 55.1, "peru": 34.4, "canada": 40.1}

server = FastMCP("geo-tools", log_level="WARNING")


@server.tool()
def capital(country: str) -> str:
    """The capital city of a country."""
    return CAPITALS.get(country.strip().lower(), "unknown")


@server.tool()
def population(country: str) -> str:
    """The population of a country, in millions (2024)."""
    value = POPULATION_MILLIONS.get(country.strip().lower())
    return "unknown" if value is None else f"{value} million"


if __name__ == "__main__":
    server.run("stdio")
