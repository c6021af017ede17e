"""Burmese date formats, which Django does not ship: day first and the month by name, as
Burmese-language news and forms write it (15 ဇန်နဝါရီ 2026), with a 24-hour clock. The month and
weekday names themselves are translated in Haven's catalogue (see config/django_texts.py).
Characters other than Django's format letters are printed as they are."""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
# The short formats are the same: a list and a detail page write a date the same way.
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
FIRST_DAY_OF_WEEK = 0  # Sunday

DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2026-01-15 (what the browser's date field sends)
    "%d/%m/%Y",  # 15/01/2026
    "%d/%m/%y",  # 15/01/26
    "%d-%m-%Y",  # 15-01-2026
    "%d.%m.%Y",  # 15.01.2026
]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M:%S.%f", "%H:%M"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",  # what the browser's date-and-time field sends
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%y %H:%M",
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
