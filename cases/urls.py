"""Case pages."""

app_name = "cases"

urlpatterns: list = []
