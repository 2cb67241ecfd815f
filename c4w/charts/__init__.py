"""Chart builders: small aggregated frames in, plotly figures and pydeck decks out."""
