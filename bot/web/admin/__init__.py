"""The editors' pages under /admin (role `editor` or `admin`): one blueprint per room, this package's modules.

`home` is the overview; the FAQ pages, the unanswered questions, analytics and privacy each live in their own
module with their own blueprint, registered in `bot.create_app`.
"""
