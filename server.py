"""Browser visualization (SolaraViz); see the visualization issue."""
