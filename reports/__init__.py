"""ordercycle.reports: KPIs, statistics and reports computed from saved run tables."""
