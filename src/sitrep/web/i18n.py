"""Every string of the web interface, in Chinese and English: the one place to add or reword them.

Report wording (indicator names, the rating and its explanation) comes from the report model in the
language asked for; only the desk's own words are here.  Chinese is the default.
"""

from __future__ import annotations

from sitrep.accounts.service import LANGUAGES

DEFAULT_LANGUAGE = "zh"

STRINGS: dict[str, dict[str, str]] = {
    "app_name": {"zh": "Sitrep 网络安全态势工作台", "en": "Sitrep situation desk"},
    "nav_dashboard": {"zh": "态势总览", "en": "Dashboard"},
    "nav_archive": {"zh": "周报归档", "en": "Report archive"},
    "logout": {"zh": "退出登录", "en": "Log out"},
    "signed_in_as": {"zh": "当前用户：{name}（{role}）", "en": "Signed in as {name} ({role})"},
    "switch_language": {"zh": "English", "en": "中文"},
    "login_title": {"zh": "登录", "en": "Log in"},
    "login_name": {"zh": "用户名", "en": "User name"},
    "login_password": {"zh": "密码", "en": "Password"},
    "login_submit": {"zh": "登录", "en": "Log in"},
    "login_failed": {"zh": "用户名或密码错误。", "en": "Wrong user name or password."},
    "login_limited": {
        "zh": "登录失败次数过多，请在 {seconds} 秒后重试。",
        "en": "Too many failed logins; try again in {seconds} seconds.",
    },
    "login_needed": {"zh": "请先登录。", "en": "Please log in first."},
    "logged_out": {"zh": "已退出登录。", "en": "You have logged out."},
    "csrf_failed": {
        "zh": "表单已过期或来源不明，未执行任何操作。请重新加载页面后再试。",
        "en": "The form expired or did not come from this site; nothing was done. Reload the page and try again.",
    },
    "forbidden": {
        "zh": "您的角色（{role}）无权执行此操作（{action}）。",
        "en": "Your role ({role}) may not do this ({action}).",
    },
    "not_found": {"zh": "页面不存在。", "en": "There is no such page."},
    "bad_request": {"zh": "请求无效：{reason}", "en": "Bad request: {reason}"},
    "server_error": {
        "zh": "服务器内部错误，已记录。请稍后再试。",
        "en": "Something went wrong on the server; it was logged. Try again later.",
    },
    "error_title": {"zh": "出错了", "en": "Error"},
    "back_home": {"zh": "返回总览", "en": "Back to the dashboard"},
    "dashboard_title": {"zh": "{week} 态势总览", "en": "Dashboard of {week}"},
    "dates": {"zh": "{start} 至 {end}", "en": "{start} to {end}"},
    "previous_week": {"zh": "← 上一周", "en": "← Previous week"},
    "next_week": {"zh": "下一周 →", "en": "Next week →"},
    "published": {"zh": "已发布（第 {revision} 版，{date}）", "en": "Published (revision {revision}, {date})"},
    "draft": {"zh": "草稿（未发布）", "en": "Draft (not published)"},
    "indicators": {"zh": "主要指标", "en": "Key indicators"},
    "col_indicator": {"zh": "指标", "en": "Indicator"},
    "col_this_week": {"zh": "本周", "en": "This week"},
    "col_last_week": {"zh": "上周", "en": "Last week"},
    "col_change": {"zh": "变化", "en": "Change"},
    "col_trend": {"zh": "近 8 周趋势", "en": "Last 8 weeks"},
    "trend_title": {"zh": "{label}：{values}", "en": "{label}: {values}"},
    "rating": {"zh": "态势评价", "en": "Rating"},
    "not_rated": {"zh": "本周数据不足，未评价。", "en": "Not enough data to rate this week."},
    "score": {"zh": "评分 {score}", "en": "score {score}"},
    "open_incidents": {"zh": "未结事件（按状态）", "en": "Open incidents by status"},
    "status_new": {"zh": "新建", "en": "New"},
    "status_triaged": {"zh": "已研判", "en": "Triaged"},
    "status_coordinating": {"zh": "协调中", "en": "Coordinating"},
    "open_total": {"zh": "合计 {count} 起", "en": "{count} in all"},
    "overdue": {"zh": "逾期未复的协调请求", "en": "Overdue coordination requests"},
    "no_overdue": {"zh": "没有逾期的协调请求。", "en": "No coordination request is overdue."},
    "col_ref": {"zh": "编号", "en": "Ref"},
    "col_title": {"zh": "事件", "en": "Incident"},
    "col_partner": {"zh": "协调对象", "en": "Partner"},
    "col_owner": {"zh": "负责人", "en": "Owner"},
    "col_due": {"zh": "截止时间", "en": "Due"},
    "col_hours_overdue": {"zh": "逾期（小时）", "en": "Hours overdue"},
    "feeds": {"zh": "本周到达的数据源", "en": "Feeds that arrived this week"},
    "no_feeds": {"zh": "本周没有任何数据源的数据。", "en": "No feed delivered data this week."},
    "col_feed": {"zh": "数据源", "en": "Feed"},
    "col_provider": {"zh": "提供方", "en": "Provider"},
    "col_rows": {"zh": "本周条数", "en": "Rows this week"},
    "col_median": {"zh": "前几周中位数", "en": "Median of previous weeks"},
    "check": {"zh": "发布前检查", "en": "Pre-publication check"},
    "check_clean": {"zh": "未发现问题。", "en": "Nothing found."},
    "level_error": {"zh": "错误", "en": "error"},
    "level_warning": {"zh": "提醒", "en": "warning"},
    "archive_title": {"zh": "周报归档", "en": "Report archive"},
}


def language(value: str | None) -> str:
    """``value`` when it is an interface language, else the default (Chinese)."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def text(lang: str, key: str, **values: object) -> str:
    """The interface string ``key`` in ``lang``, with ``values`` filled in."""
    template = STRINGS[key][language(lang)]
    return template.format(**values) if values else template


class Translator:
    """``t("key", name=...)`` in templates: the strings of one language."""

    def __init__(self, lang: str) -> None:
        self.lang = language(lang)

    def __call__(self, key: str, **values: object) -> str:
        return text(self.lang, key, **values)
