"""Every string of the web interface, in Chinese and English: the one place to add or reword them.

Report wording (indicator names, the rating and its explanation) comes from the report model in the
language asked for; only the desk's own words are here.  Chinese is the default.
"""

from __future__ import annotations

from sitrep.accounts.service import LANGUAGES
from sitrep.incidents.service import Refused

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
    "status_resolved": {"zh": "已处置", "en": "Resolved"},
    "status_rejected": {"zh": "已驳回", "en": "Rejected"},
    "status_unresolved": {"zh": "未能处置", "en": "Unresolved"},
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
    # The incident desk (web/desk.py, templates/desk/)
    "nav_incidents": {"zh": "事件处置", "en": "Incidents"},
    "desk_title": {"zh": "事件列表", "en": "Incidents"},
    "desk_new": {"zh": "新建事件", "en": "New incident"},
    "desk_filters": {"zh": "筛选", "en": "Filter"},
    "desk_status": {"zh": "状态", "en": "Status"},
    "desk_open_only": {"zh": "仅未结", "en": "Open only"},
    "desk_category": {"zh": "类别", "en": "Category"},
    "desk_any": {"zh": "（全部）", "en": "(any)"},
    "desk_none": {"zh": "（无）", "en": "(none)"},
    "desk_owner": {"zh": "负责人", "en": "Owner"},
    "desk_unassigned": {"zh": "未分配", "en": "Unassigned"},
    "desk_partner": {"zh": "协调对象", "en": "Partner"},
    "desk_resolved_in": {"zh": "处置周（如 2025-W01）", "en": "Resolved in week (e.g. 2025-W01)"},
    "desk_search": {"zh": "搜索编号或标题", "en": "Search ref or title"},
    "desk_apply": {"zh": "筛选", "en": "Apply"},
    "desk_clear": {"zh": "清除筛选", "en": "Clear"},
    "desk_empty": {"zh": "没有符合条件的事件。", "en": "No incident matches."},
    "desk_next_page": {"zh": "下一页 →", "en": "Next page →"},
    "desk_first_page": {"zh": "← 第一页", "en": "← First page"},
    "desk_page_note": {"zh": "按新建时间倒序，每页 {size} 起。", "en": "Newest first, {size} a page."},
    "desk_select": {"zh": "选择", "en": "Select"},
    "desk_bulk": {"zh": "对选中的事件", "en": "With the selected incidents"},
    "desk_bulk_resolve": {"zh": "批量处置", "en": "Resolve"},
    "desk_bulk_assign": {"zh": "批量分配给", "en": "Assign to"},
    "desk_bulk_title": {"zh": "批量操作结果", "en": "Bulk change"},
    "desk_bulk_resolved": {"zh": "已处置 {count} 起：", "en": "Resolved {count}:"},
    "desk_bulk_assigned": {"zh": "已分配 {count} 起给 {owner}：", "en": "Assigned {count} to {owner}:"},
    "desk_bulk_unassigned": {"zh": "已取消分配 {count} 起：", "en": "Unassigned {count}:"},
    "desk_bulk_refused": {"zh": "未执行 {count} 起：", "en": "Refused {count}:"},
    "desk_bulk_none": {"zh": "请先在列表中选择事件。", "en": "Select incidents in the list first."},
    "desk_back_list": {"zh": "返回事件列表", "en": "Back to the incidents"},
    "col_incident_title": {"zh": "标题", "en": "Title"},
    "col_status": {"zh": "状态", "en": "Status"},
    "col_category": {"zh": "类别", "en": "Category"},
    "col_grade": {"zh": "级别", "en": "Grade"},
    "col_reported": {"zh": "报告时间", "en": "Reported"},
    "col_resolved": {"zh": "处置时间", "en": "Resolved"},
    "col_cross_border": {"zh": "跨境", "en": "Cross-border"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "inc_fields": {"zh": "基本信息", "en": "Details"},
    "inc_reported_via": {"zh": "发现方式", "en": "Reported via"},
    "inc_reporter": {"zh": "报告方", "en": "Reporter"},
    "inc_reporter_country": {"zh": "报告方国家/地区", "en": "Reporter country"},
    "inc_cross_border_set": {"zh": "（人工设定：{reason}）", "en": " (set by hand: {reason})"},
    "inc_times": {"zh": "时间节点", "en": "Times"},
    "time_created": {"zh": "创建", "en": "Created"},
    "time_reported": {"zh": "报告", "en": "Reported"},
    "time_triaged": {"zh": "研判", "en": "Triaged"},
    "time_coordinating": {"zh": "开始协调", "en": "Coordinating"},
    "time_resolved": {"zh": "处置完成", "en": "Resolved"},
    "time_rejected": {"zh": "驳回", "en": "Rejected"},
    "time_unresolved": {"zh": "未能处置", "en": "Unresolved"},
    "time_updated": {"zh": "最后修改", "en": "Last changed"},
    "inc_assets": {"zh": "涉事资产", "en": "Assets"},
    "inc_no_assets": {"zh": "暂无资产。", "en": "No asset yet."},
    "col_kind": {"zh": "类型", "en": "Kind"},
    "col_value": {"zh": "值", "en": "Value"},
    "col_country": {"zh": "国家/地区", "en": "Country"},
    "inc_events": {"zh": "关联的数据源事件（{count} 条）", "en": "Linked feed events ({count})"},
    "inc_requests": {"zh": "协调请求", "en": "Coordination requests"},
    "inc_no_requests": {"zh": "暂无协调请求。", "en": "No coordination request yet."},
    "col_sent": {"zh": "发出", "en": "Sent"},
    "col_acknowledged": {"zh": "确认收到", "en": "Acknowledged"},
    "col_actioned": {"zh": "已处置", "en": "Actioned"},
    "col_verified": {"zh": "已核实", "en": "Verified"},
    "col_outcome": {"zh": "结果", "en": "Outcome"},
    "col_reminded": {"zh": "已催办", "en": "Reminded"},
    "overdue_mark": {"zh": "已逾期", "en": "overdue"},
    "inc_notes": {"zh": "备注", "en": "Notes"},
    "inc_no_notes": {"zh": "暂无备注。", "en": "No note yet."},
    "inc_timeline": {"zh": "处置记录", "en": "Timeline"},
    "col_at": {"zh": "时间", "en": "When"},
    "col_actor": {"zh": "操作人", "en": "Who"},
    "col_change_text": {"zh": "变更", "en": "Change"},
    "back_dated": {"zh": "补录于 {at}", "en": "entered {at}"},
    "form_edit": {"zh": "修改事件", "en": "Change the incident"},
    "form_title": {"zh": "标题", "en": "Title"},
    "form_status_keep": {"zh": "保持 {status}", "en": "Keep {status}"},
    "form_status_to": {"zh": "转为 {status}", "en": "Move to {status}"},
    "form_closed": {"zh": "事件已结，状态不可再变。", "en": "The incident is closed; its status is final."},
    "form_at": {"zh": "生效时间（留空为现在）", "en": "Took effect at (empty: now)"},
    "form_add_assets": {"zh": "新增资产（每行一个 URL、域名或 IP）", "en": "Add assets (one URL, domain or IP a line)"},
    "form_cross_border": {"zh": "跨境", "en": "Cross-border"},
    "form_cross_derive": {"zh": "自动判断", "en": "Derive it"},
    "form_cross_yes": {"zh": "人工设为是", "en": "Set to yes"},
    "form_cross_no": {"zh": "人工设为否", "en": "Set to no"},
    "form_reason": {"zh": "人工设定的理由", "en": "Reason for setting it"},
    "form_save": {"zh": "保存", "en": "Save"},
    "form_assign": {"zh": "分配负责人", "en": "Assign an owner"},
    "form_owner_hint": {"zh": "留空则取消分配", "en": "empty: nobody"},
    "form_assign_submit": {"zh": "分配", "en": "Assign"},
    "form_note": {"zh": "添加备注", "en": "Add a note"},
    "form_note_submit": {"zh": "添加", "en": "Add"},
    "form_request": {"zh": "协调请求", "en": "Coordination request"},
    "form_request_hint": {
        "zh": "向协调对象发起请求，或记录其进展。时间填 now 或 2025-01-06T10:30（本地时间），留空不变。",
        "en": "Open a request to a partner, or record how far it got. Times: now or 2025-01-06T10:30 "
        "(local time); empty leaves it as it is.",
    },
    "form_due": {"zh": "截止时间（留空按时限规则）", "en": "Due (empty: by the SLA)"},
    "form_request_submit": {"zh": "保存请求", "en": "Save the request"},
    "form_choose": {"zh": "（请选择）", "en": "(choose one)"},
    "form_resolve": {"zh": "处置完成", "en": "Resolve"},
    "form_resolve_outcome": {"zh": "尚无结果的请求记为", "en": "Outcome of requests that have none"},
    "form_resolve_submit": {"zh": "标记为已处置", "en": "Mark resolved"},
    "form_ref": {"zh": "编号（留空自动生成）", "en": "Ref (empty: the next one)"},
    "form_reported_at": {"zh": "报告时间（留空为现在）", "en": "Reported at (empty: now)"},
    "form_assets": {"zh": "资产（每行一个 URL、域名或 IP）", "en": "Assets (one URL, domain or IP a line)"},
    "form_partners": {"zh": "协调对象（可多选）", "en": "Partners (choose any)"},
    "form_create": {"zh": "创建", "en": "Create"},
    "via_complaint": {"zh": "投诉举报", "en": "complaint"},
    "via_partner": {"zh": "合作方通报", "en": "partner"},
    "via_monitoring": {"zh": "自主监测", "en": "monitoring"},
    "via_foreign-cert": {"zh": "境外 CERT 通报", "en": "foreign CERT"},
    "outcome_taken-down": {"zh": "已下线", "en": "taken down"},
    "outcome_fixed": {"zh": "已修复", "en": "fixed"},
    "outcome_refused": {"zh": "拒绝处理", "en": "refused"},
    "outcome_no-response": {"zh": "无回应", "en": "no response"},
    "done_created": {"zh": "事件已创建。", "en": "The incident was created."},
    "done_saved": {"zh": "已保存。", "en": "Saved."},
    "done_assigned": {"zh": "负责人已更新。", "en": "The owner was changed."},
    "done_noted": {"zh": "备注已添加。", "en": "The note was added."},
    "done_request": {"zh": "协调请求已保存。", "en": "The coordination request was saved."},
    "done_resolved": {"zh": "事件已处置完成。", "en": "The incident was resolved."},
    "err_refused": {"zh": "未执行：{reason}", "en": "Nothing was done: {reason}"},
    "err_stale": {
        "zh": "事件 {ref} 在您打开页面后已被他人修改，您的修改未保存。下面是最新内容，请核对后重新提交。",
        "en": "Incident {ref} was changed by someone else after you opened it; your change was not saved. "
        "The page now shows it as it is: check it and submit again.",
    },
    "err_transition": {
        "zh": "事件 {ref} 不能从“{current}”转为“{goal}”（可转为：{allowed}）。",
        "en": "Incident {ref} cannot go from {current} to {goal} (allowed: {allowed}).",
    },
    "err_unknown_partner": {
        "zh": "名录中没有协调对象“{name}”。",
        "en": "There is no partner {name!r} in the directory.",
    },
    "err_inactive_partner": {"zh": "协调对象“{name}”已停用。", "en": "The partner {name!r} is deactivated."},
    "err_duplicate_ref": {"zh": "编号 {ref} 已存在。", "en": "An incident with ref {ref} exists already."},
    "err_unknown_incident": {"zh": "没有编号为“{ref}”的事件。", "en": "There is no incident with ref {ref!r}."},
    # The coordination ledger (web/ledger.py, templates/ledger*.html)
    "nav_ledger": {"zh": "协调台账", "en": "Coordination ledger"},
    "ledger_title": {"zh": "协调台账", "en": "Coordination ledger"},
    "ledger_window": {
        "zh": "统计 {first} 至 {last} 共 {weeks} 周内发出的协调请求",
        "en": "Requests sent in the {weeks} weeks {first} to {last}",
    },
    "ledger_weeks": {"zh": "周数", "en": "Weeks"},
    "ledger_last_week": {"zh": "截至", "en": "Ending with"},
    "ledger_show": {"zh": "查看", "en": "Show"},
    "ledger_partners": {"zh": "各协调对象", "en": "By partner"},
    "ledger_col_type": {"zh": "类型", "en": "Type"},
    "ledger_col_to_send": {"zh": "待发送", "en": "To send"},
    "ledger_col_overdue_now": {"zh": "当前逾期", "en": "Overdue now"},
    "ledger_col_sent": {"zh": "已发出", "en": "Sent"},
    "ledger_col_acknowledged": {"zh": "已确认", "en": "Acknowledged"},
    "ledger_col_actioned": {"zh": "已处置", "en": "Actioned"},
    "ledger_col_no_response": {"zh": "无回应", "en": "No response"},
    "ledger_col_median_ack": {"zh": "确认用时中位数（小时）", "en": "Median hours to acknowledge"},
    "ledger_col_median_takedown": {"zh": "下线用时中位数（小时）", "en": "Median hours to take down"},
    "ledger_col_partners": {"zh": "对象数", "en": "Partners"},
    "ledger_inactive": {"zh": "（已停用）", "en": "(deactivated)"},
    "ledger_to_send": {"zh": "请求 {requests}，催办 {reminders}", "en": "{requests} requests, {reminders} reminders"},
    "ledger_columns_note": {
        "zh": "“待发送”为下次通知将发出的请求与催办；“当前逾期”为此刻已过处置时限的请求；"
        "其余各列为所选周内发出的请求。",
        "en": "To send: the requests and reminders the next notification sends. Overdue now: requests past "
        "their due date at this moment. The other columns count the requests sent in the chosen weeks.",
    },
    "ledger_quiet": {"zh": "另有 {count} 个协调对象没有相关请求。", "en": "{count} other partners have none."},
    "ledger_empty": {
        "zh": "没有待发送、逾期或在所选周内发出的协调请求。",
        "en": "No request to send, overdue or sent in these weeks.",
    },
    "ledger_scorecard_types": {"zh": "按协调对象类型", "en": "By partner type"},
    "ledger_scorecard_empty": {"zh": "所选周内没有发出协调请求。", "en": "No request was sent in these weeks."},
    "ledger_scorecard_total": {
        "zh": "合计发出 {sent} 个请求，其中 {acknowledged} 个已确认。",
        "en": "{sent} requests sent in all, {acknowledged} acknowledged.",
    },
    "ledger_notify_button": {"zh": "发送通知", "en": "Send the notification"},
    "ledger_notify_button_outbox": {"zh": "生成通知邮件", "en": "Write the notification"},
    "ledger_outbox_note": {
        "zh": "sitrep.toml 的 [smtp] 尚未配置（仍为默认值）：通知不会发出，而是以 .eml 文件写入 {outbox}，"
        "也不会记录发送时间。",
        "en": "[smtp] of sitrep.toml is not set up (still the defaults): notifications are not sent but "
        "written as .eml files to {outbox}, and nothing is recorded.",
    },
    "ledger_col_sent_at": {"zh": "发出时间", "en": "Sent"},
    "ledger_col_reminded": {"zh": "最近催办", "en": "Last reminder"},
    "ledger_no_email": {"zh": "无电子邮件地址", "en": "no e-mail address"},
    "ledger_partner_counts": {
        "zh": "协调请求 {requests} 个：未结 {open} 个，逾期 {overdue} 个",
        "en": "{requests} coordination requests: {open} open, {overdue} overdue",
    },
    "ledger_due_requests": {"zh": "待发送的请求：{refs}", "en": "Requests to send: {refs}"},
    "ledger_due_reminders": {"zh": "待发送的催办：{refs}", "en": "Reminders to send: {refs}"},
    "ledger_nothing_due": {"zh": "目前没有待发送的请求或催办。", "en": "Nothing to send now."},
    "ledger_partner_requests": {"zh": "协调请求（最新在前）", "en": "Coordination requests, newest first"},
    "ledger_col_status": {"zh": "事件状态", "en": "Incident status"},
    "ledger_col_state": {"zh": "请求进展", "en": "Request"},
    "ledger_col_acknowledged_at": {"zh": "确认时间", "en": "Acknowledged"},
    "ledger_col_actioned_at": {"zh": "处置时间", "en": "Actioned"},
    "ledger_state_overdue": {"zh": "已逾期", "en": "overdue"},
    "ledger_state_actioned": {"zh": "已处置", "en": "actioned"},
    "ledger_state_acknowledged": {"zh": "已确认", "en": "acknowledged"},
    "ledger_state_awaiting": {"zh": "待回复", "en": "awaiting an answer"},
    "ledger_state_unsent": {"zh": "未发出", "en": "not sent"},
    "ledger_partner_recent": {"zh": "显示最新 {shown} 个，共 {total} 个。", "en": "The newest {shown} of {total}."},
    "ledger_partner_no_requests": {"zh": "尚无协调请求。", "en": "No coordination request yet."},
    "ledger_notify_title": {"zh": "通知 {partner}", "en": "Notifying {partner}"},
    "ledger_notify_failed_all": {"zh": "无法发送：{reason}", "en": "Nothing could be sent: {reason}"},
    "ledger_notify_dry_run": {
        "zh": "sitrep.toml 的 [smtp] 尚未配置，邮件未发出，已写入 {outbox}（未记录发送时间）。",
        "en": "[smtp] of sitrep.toml is not set up: nothing was sent; the messages were written to {outbox} "
        "(nothing was recorded).",
    },
    "ledger_notice_request": {"zh": "协调请求 {count} 起（{refs}）", "en": "Request for {count} incidents ({refs})"},
    "ledger_notice_reminder": {"zh": "催办 {count} 起（{refs}）", "en": "Reminder of {count} incidents ({refs})"},
    "ledger_notify_nothing": {"zh": "没有需要发送的请求或催办。", "en": "There was nothing to send."},
    "ledger_notice_not_sent": {"zh": "{kind}未发出：{reason}", "en": "{kind} not sent: {reason}"},
    "ledger_kind_request": {"zh": "协调请求", "en": "Request"},
    "ledger_kind_reminder": {"zh": "催办", "en": "Reminder"},
    # The event explorer (web/explorer.py, templates/explorer*.html)
    "nav_explorer": {"zh": "事件数据查询", "en": "Event explorer"},
    "ex_title": {"zh": "事件数据查询", "en": "Event explorer"},
    "ex_internal": {
        "zh": "内部工具：显示全部事件，包括 TLP:AMBER 与 RED，请按其 TLP 处理。",
        "en": "Internal: every event is shown, TLP:AMBER and RED included; handle them by their TLP.",
    },
    "ex_ip": {"zh": "IP 或网段", "en": "IP or network"},
    "ex_domain": {"zh": "域名", "en": "Domain"},
    "ex_url": {"zh": "URL", "en": "URL"},
    "ex_feed": {"zh": "数据源", "en": "Feed"},
    "ex_class": {"zh": "分类", "en": "Class"},
    "ex_week": {"zh": "周", "en": "Week"},
    "ex_start": {"zh": "起始", "en": "Start"},
    "ex_end": {"zh": "截止（含）", "en": "End (inclusive)"},
    "ex_limit": {"zh": "每页", "en": "Per page"},
    "ex_search": {"zh": "查询", "en": "Search"},
    "ex_show": {"zh": "查看", "en": "Show"},
    "ex_clear": {"zh": "清除", "en": "Clear"},
    "ex_help": {
        "zh": "每次查询限定在一周或不超过 [explorer] max_days 天的起止时间内；不填则为上一个完整周。"
        "URL 与数据源以 * 结尾表示前缀。",
        "en": "Every search covers a week, or a start and an end at most [explorer] max_days apart; with "
        "neither, the last complete week. A URL or feed ending in * is a prefix.",
    },
    "ex_results": {"zh": "{start} 至 {end}（UTC），最新在前", "en": "{start} to {end} (UTC), newest first"},
    "ex_export": {"zh": "导出全部结果：", "en": "Export every match:"},
    "ex_export_note": {
        "zh": "（CSV 中以 = + - @ 开头的单元格前加 '，打开时不会执行公式）",
        "en": "(CSV cells that would start a formula get a leading ')",
    },
    "ex_none": {"zh": "没有符合条件的事件。", "en": "No event matches."},
    "ex_col_time": {"zh": "时间（UTC）", "en": "Time (UTC)"},
    "ex_col_event": {"zh": "事件", "en": "Event"},
    "ex_col_feed": {"zh": "数据源", "en": "Feed"},
    "ex_col_class": {"zh": "分类", "en": "Class"},
    "ex_col_ip": {"zh": "源 IP", "en": "Source IP"},
    "ex_col_asn": {"zh": "ASN", "en": "ASN"},
    "ex_col_where": {"zh": "URL、网站或漏洞", "en": "URL, site or vulnerability"},
    "ex_col_country": {"zh": "国家/地区", "en": "Country"},
    "ex_first_page": {"zh": "← 第一页", "en": "← First page"},
    "ex_next_page": {"zh": "下一页 →", "en": "Next page →"},
    "ex_last_page": {"zh": "已是最后一页", "en": "Last page"},
    "ex_number": {"zh": "数字", "en": "Number"},
    "ex_behind_title": {"zh": "{week}「{label}」背后的事件", "en": "Events behind {label}, {week}"},
    "ex_behind_frozen": {
        "zh": "共 {count} 条事件：已发布周报冻结的事件",
        "en": "{count} events, frozen in the published issue",
    },
    "ex_behind_draft": {
        "zh": "共 {count} 条事件：按指标定义当前选出（草稿）",
        "en": "{count} events, as the definition selects them now (draft)",
    },
    "ex_behind_note": {
        "zh": "指标统计的是去重后的主机、网站、URL 或漏洞，因此事件数通常大于指标数。",
        "en": "An indicator counts distinct hosts, sites, URLs or vulnerabilities, so there are usually more "
        "events than the number.",
    },
    "malware_hosting": {"zh": "恶意程序托管（分类统计）", "en": "Malware hosting (breakdown)"},
    # -- incident desk: proposals from events, incidents behind a number, event links (h-desk) --
    "ex_event": {"zh": "事件 ID", "en": "Event ID"},
    "ex_col_incidents": {"zh": "所属事件单", "en": "Incidents"},
    "ex_linked_title": {
        "zh": "本页事件关联的事件单（{count} 起）",
        "en": "Incidents linked to the events of this page ({count})",
    },
    "ex_linked_events": {"zh": "本页关联事件数", "en": "Events of this page"},
    "ex_linked_note": {
        "zh": "仅列出与本页所列事件关联的事件单；翻页可查看其余事件的关联。",
        "en": "Only the incidents linked to the events listed on this page; the next pages show the others'.",
    },
    "num_handled": {"zh": "处理网络安全事件", "en": "Incidents handled"},
    "num_cross_border": {"zh": "其中跨境事件", "en": "Cross-border incidents"},
    "num_phishing": {"zh": "网页仿冒事件", "en": "Phishing incidents"},
    "num_mobile_malware_urls": {"zh": "移动互联网恶意程序下载链接", "en": "Mobile-malware download URLs"},
    "num_mobile_malware_platforms": {"zh": "协调的应用商店及下载平台", "en": "App stores coordinated with"},
    "inc_handling": {"zh": "本周事件处置", "en": "Incident handling this week"},
    "inc_handling_note": {
        "zh": "周报第五部分的数字：本周内处置完成的事件。点击数字查看其背后的事件单。",
        "en": "The numbers of section 5 of the report: incidents resolved in the week. Each number links to "
        "the incidents behind it.",
    },
    "inc_behind_title": {"zh": "{week}「{label}」背后的事件单", "en": "The incidents behind “{label}”, {week}"},
    "inc_behind_frozen": {
        "zh": "数字 {value}：已发布周报冻结的 {count} 起事件",
        "en": "The number {value}: {count} incidents, frozen in the published issue",
    },
    "inc_behind_draft": {
        "zh": "数字 {value}：当前统计的 {count} 起事件（草稿）",
        "en": "The number {value}: {count} incidents, as counted now (draft)",
    },
    "inc_behind_note": {
        "zh": "该数字统计的是去重后的链接或平台，因此与事件数不同。",
        "en": "This number counts distinct URLs or platforms, so it differs from the count of incidents.",
    },
    "inc_behind_none": {"zh": "该数字背后没有事件。", "en": "No incident is behind this number."},
    "inc_behind_missing": {"zh": "（事件库中已无此事件）", "en": "(no longer in the incident store)"},
    "prop_link": {"zh": "来自事件的建议", "en": "Proposals from events"},
    "prop_title": {"zh": "{week} 来自事件的建议事件", "en": "Proposed incidents from the events of {week}"},
    "prop_help": {
        "zh": "按 [[incidents.propose]] 规则，由本周数据湖事件生成的新建事件（编号 P-周-…）；接受即转为已研判，"
        "之后才会通知协调对象；驳回须填写原因，原因记入事件时间线。",
        "en": "New incidents made from the week's lake events by the [[incidents.propose]] rules (refs P-<week>-…). "
        "Accepting triages them, after which their partners are notified; a rejection needs a reason, which "
        "goes on the incident's timeline.",
    },
    "prop_preview": {"zh": "预览（不写入）", "en": "Preview (dry run)"},
    "prop_run": {"zh": "生成 {week} 的建议事件", "en": "Propose incidents for {week}"},
    "prop_ran": {
        "zh": "已生成 {created} 起新建议事件；{attached} 组事件并入已有未结事件。",
        "en": "{created} new proposed incidents; {attached} groups of events attached to open incidents.",
    },
    "prop_ran_refused": {
        "zh": "{count} 组事件的资产无效（如含空格的 URL），未生成事件。",
        "en": "{count} groups of events have an asset no incident can hold (such as a URL with a space): none made.",
    },
    "prop_action_refused": {"zh": "未生成", "en": "Refused"},
    "prop_preview_title": {
        "zh": "预览：共 {total} 条建议（未写入）",
        "en": "Preview: {total} proposals (nothing written)",
    },
    "prop_preview_counts": {
        "zh": "新建 {create} 起，并入已有事件 {attach} 起，已存在 {exists} 起。",
        "en": "{create} to create, {attach} to attach to an open incident, {exists} existing already.",
    },
    "prop_preview_more": {
        "zh": "仅列出前 {shown} 条（共 {total} 条）。",
        "en": "The first {shown} of {total} are listed.",
    },
    "prop_action_create": {"zh": "新建", "en": "Create"},
    "prop_action_attach": {"zh": "并入", "en": "Attach"},
    "prop_action_exists": {"zh": "已存在", "en": "Exists"},
    "prop_col_action": {"zh": "操作", "en": "Action"},
    "prop_col_asset": {"zh": "资产", "en": "Asset"},
    "prop_col_events": {"zh": "事件数", "en": "Events"},
    "prop_col_first_seen": {"zh": "首次发现", "en": "First seen"},
    "prop_no_partner": {"zh": "未匹配协调对象", "en": "no partner matched"},
    "prop_pending": {"zh": "待研判的建议事件", "en": "Proposals awaiting triage"},
    "prop_none": {"zh": "{week} 没有待研判的建议事件。", "en": "No proposal of {week} awaits triage."},
    "prop_accept": {"zh": "接受（转为已研判）", "en": "Accept (triage)"},
    "prop_reject": {"zh": "驳回", "en": "Reject"},
    "prop_reason": {"zh": "驳回原因", "en": "Reason for rejecting"},
    "prop_reason_needed": {"zh": "驳回须填写原因。", "en": "Rejecting needs a reason."},
    "prop_accepted": {"zh": "已接受 {count} 起：", "en": "Accepted {count}:"},
    "prop_rejected": {"zh": "已驳回 {count} 起：", "en": "Rejected {count}:"},
    # Long jobs: uploading a feed file, rendering a week (web/jobs.py, web/upload.py, templates/jobs.html,
    # job.html, _job*.html, feeds_upload.html)
    "nav_jobs": {"zh": "后台任务", "en": "Jobs"},
    "nav_upload": {"zh": "上传数据", "en": "Upload a feed"},
    "upload_title": {"zh": "上传数据源文件", "en": "Upload a feed file"},
    "upload_file": {"zh": "文件", "en": "File"},
    "upload_format": {"zh": "格式", "en": "Format"},
    "upload_detect": {"zh": "（按内容自动识别）", "en": "(detect from the content)"},
    "upload_submit": {"zh": "上传并导入", "en": "Upload and ingest"},
    "upload_help": {
        "zh": "CSV、JSON、JSON Lines、XML、文本文件，也可为 .gz 压缩文件或 .zip 压缩包（逐个导入其中的文件），"
        "最大 {mb} MB（sitrep.toml 的 [jobs] max_upload_mb）。导入在后台进行，页面显示进度；"
        "同一文件导入两次不会重复计入。Shadowserver 报告请保留其原文件名（YYYY-MM-DD-<报告>-….csv），"
        "或在上方选择格式。",
        "en": "CSV, JSON, JSON Lines, XML or text, also gzip-compressed (.gz) or a .zip archive (each file in it "
        "is ingested), at most {mb} MB ([jobs] max_upload_mb of sitrep.toml). The ingest runs in the background "
        "and its page shows the progress; ingesting a file twice adds nothing. Keep a Shadowserver report's own "
        "file name (YYYY-MM-DD-<report>-….csv), or choose its format above.",
    },
    "upload_too_large": {
        "zh": "文件超过上传上限 {limit} MB，未保存。请拆分文件，或调整 sitrep.toml 的 [jobs] max_upload_mb，"
        "或用命令行 sitrep ingest 导入。",
        "en": "The file is larger than the upload limit of {limit} MB and was not kept. Split it, raise [jobs] "
        "max_upload_mb in sitrep.toml, or ingest it with 'sitrep ingest'.",
    },
    "upload_no_file": {"zh": "请选择要上传的文件。", "en": "Choose a file to upload."},
    "upload_empty": {"zh": "上传的文件是空的。", "en": "The uploaded file is empty."},
    "upload_not_multipart": {
        "zh": "请求不是文件上传表单（multipart/form-data）。",
        "en": "The request is not a file upload form (multipart/form-data).",
    },
    "upload_bad_form": {"zh": "上传表单无效：{reason}", "en": "The upload form is not valid: {reason}"},
    "upload_unknown_format": {
        "zh": "没有名为“{name}”的格式，文件未导入。",
        "en": "There is no format {name!r}; the file was not ingested.",
    },
    "jobs_title": {"zh": "后台任务", "en": "Jobs"},
    "jobs_none": {"zh": "还没有任务。", "en": "No job yet."},
    "jobs_render_week": {"zh": "生成周报（全部格式、中英文）", "en": "Render the report of week"},
    "jobs_render_submit": {"zh": "开始生成", "en": "Render"},
    "jobs_note": {
        "zh": "导入上传的数据源文件、生成周报文件在服务器后台运行，最新 {count} 个任务如下。",
        "en": "Ingesting an uploaded feed file and rendering a report run in the background; the newest {count} "
        "jobs are listed.",
    },
    "job_title": {"zh": "任务 #{id}", "en": "Job #{id}"},
    "job_heading_ingest": {"zh": "导入 {title}", "en": "Ingesting {title}"},
    "job_heading_render": {"zh": "生成 {title} 周报", "en": "Rendering the report of {title}"},
    "job_kind_ingest": {"zh": "导入", "en": "ingest"},
    "job_kind_render": {"zh": "生成周报", "en": "render"},
    "job_col_id": {"zh": "任务", "en": "Job"},
    "job_col_kind": {"zh": "类型", "en": "Kind"},
    "job_col_title": {"zh": "对象", "en": "Of"},
    "job_col_by": {"zh": "发起人", "en": "By"},
    "job_col_state": {"zh": "状态", "en": "State"},
    "job_col_created": {"zh": "发起时间（UTC）", "en": "Started (UTC)"},
    "job_col_finished": {"zh": "结束时间（UTC）", "en": "Finished (UTC)"},
    "job_state": {"zh": "状态", "en": "State"},
    "job_state_queued": {"zh": "排队中", "en": "queued"},
    "job_state_running": {"zh": "运行中", "en": "running"},
    "job_state_done": {"zh": "已完成", "en": "done"},
    "job_state_failed": {"zh": "失败", "en": "failed"},
    "job_interrupted": {
        "zh": "运行该任务的服务器进程在任务完成前停止，任务已中断。请重新发起。",
        "en": "The server process that ran this job stopped before it finished: the job was interrupted. "
        "Start it again.",
    },
    "job_started_by": {"zh": "发起人", "en": "Started by"},
    "job_created": {"zh": "发起时间", "en": "Started"},
    "job_finished": {"zh": "结束时间", "en": "Finished"},
    "job_took": {"zh": "（用时 {seconds} 秒）", "en": " ({seconds} s)"},
    "job_step_queued": {"zh": "排队等待", "en": "Waiting for a worker"},
    "job_step_starting": {"zh": "正在开始", "en": "Starting"},
    "job_step_reading": {"zh": "读取与映射", "en": "Reading and mapping"},
    "job_step_deduplicating": {"zh": "去重", "en": "Deduplicating"},
    "job_step_enriching": {"zh": "富化并写入", "en": "Enriching and committing"},
    "job_step_composing": {"zh": "汇总本周数据", "en": "Composing the week's report"},
    "job_step_rendering": {"zh": "生成文件", "en": "Writing the files"},
    "job_step_finished": {"zh": "已结束", "en": "Finished"},
    "job_polling": {"zh": "页面每秒自动刷新进度。", "en": "The progress refreshes every second."},
    "job_ingest_result": {"zh": "导入结果", "en": "What was ingested"},
    "job_col_file": {"zh": "文件", "en": "File"},
    "job_col_format": {"zh": "格式", "en": "Format"},
    "job_col_read": {"zh": "读取", "en": "Read"},
    "job_col_accepted": {"zh": "接受", "en": "Accepted"},
    "job_col_duplicates": {"zh": "重复", "en": "Duplicates"},
    "job_col_rejected": {"zh": "拒绝", "en": "Rejected"},
    "job_ingest_line": {
        "zh": "{file}：读取 {read} 行 = 接受 {accepted} + 重复 {duplicates} + 拒绝 {rejected}",
        "en": "{file}: read {read} = accepted {accepted} + duplicates {duplicates} + rejected {rejected}",
    },
    "job_rejects": {
        "zh": "被拒绝的行（含行号、原因和原始内容）保存在 {path}，可用命令 sitrep rejects --file {name} 查看。",
        "en": "The rejected rows (line, reason and raw text) are kept in {path}; 'sitrep rejects --file {name}' "
        "shows them.",
    },
    "job_explore": {"zh": "在事件数据查询中查看：", "en": "See the events in the explorer:"},
    "job_no_format_hint": {
        "zh": "若格式无法识别，请在上传页选择格式后重新上传。",
        "en": "When the format is not recognised, upload the file again with its format chosen.",
    },
    "job_render_result": {"zh": "已生成 {week} 周报的文件", "en": "The files of {week} written"},
    "job_render_dashboard": {"zh": "{week} 态势总览", "en": "Dashboard of {week}"},
    "job_render_workspace": {"zh": "{week} 周报工作台的下载", "en": "Downloads in the report workspace of {week}"},
    "job_kb": {"zh": "{kb} KB", "en": "{kb} KB"},
    # The report workspace (web/reports.py, templates/reports/)
    "nav_reports": {"zh": "周报工作台", "en": "Reports"},
    "rp_title": {"zh": "周报工作台", "en": "Report workspace"},
    "rp_intro": {
        "zh": "近 {count} 周以及所有已发布或已撰写叙述的周。"
        "打开某一周可预览中英文周报、查看发布前检查、撰写叙述并发布。",
        "en": "The last {count} weeks, and every week published or with a narrative. Open a week to preview it "
        "in both languages, see its check, write its narrative and publish it.",
    },
    "rp_go": {"zh": "打开某一周", "en": "Open a week"},
    "rp_go_submit": {"zh": "打开", "en": "Open"},
    "rp_col_week": {"zh": "周", "en": "Week"},
    "rp_col_dates": {"zh": "日期", "en": "Dates"},
    "rp_col_state": {"zh": "状态", "en": "State"},
    "rp_col_revision": {"zh": "版本", "en": "Revision"},
    "rp_col_narrative": {"zh": "叙述", "en": "Narrative"},
    "rp_col_files": {"zh": "已生成文件", "en": "Rendered files"},
    "rp_state_draft": {"zh": "草稿", "en": "draft"},
    "rp_state_published": {"zh": "已发布", "en": "published"},
    "rp_state_withdrawn": {"zh": "已撤回", "en": "withdrawn"},
    "rp_not_ended": {"zh": "（本周未结束）", "en": "(not ended)"},
    "rp_withdrawn_on": {"zh": "{date} 撤回：{reason}", "en": "withdrawn {date}: {reason}"},
    "rp_narrative_damaged": {"zh": "文件已损坏", "en": "damaged file"},
    "rp_week_title": {"zh": "{week} 周报", "en": "Report of {week}"},
    "rp_back": {"zh": "← 全部周", "en": "← All weeks"},
    "rp_status_draft": {
        "zh": "草稿：数字按当前数据计算，尚未发布。",
        "en": "Draft: the numbers are computed from the data as it is now; not published.",
    },
    "rp_status_published": {
        "zh": "已发布：第 {revision} 版，{published} 首次发布，{updated} 最后更新。数字已冻结。",
        "en": "Published: revision {revision}, first published {published}, last changed {updated}. "
        "The numbers are frozen.",
    },
    "rp_status_withdrawn": {
        "zh": "已于 {date} 撤回：{reason}。下面是按当前数据计算的草稿，可再次发布。",
        "en": "Withdrawn on {date}: {reason}. Below is a draft computed from the data as it is now; it can be "
        "published again.",
    },
    "rp_in_archive": {"zh": "在公开归档中查看", "en": "See it in the public archive"},
    "rp_preview": {"zh": "预览", "en": "Preview"},
    "rp_preview_zh": {"zh": "中文版", "en": "Chinese edition"},
    "rp_preview_en": {"zh": "英文版", "en": "English edition"},
    "rp_preview_note": {
        "zh": "HTML 版按现在的状态生成：已发布的周显示冻结的数字与叙述，"
        "草稿显示当前计算的数字与叙述工作稿。生成需要数秒。",
        "en": "The HTML edition as it would be rendered now: a published week with its frozen numbers and "
        "narrative, a draft with the numbers computed now and the narrative being written. It takes a few "
        "seconds to render.",
    },
    "rp_preview_open": {"zh": "单独打开", "en": "Open on its own"},
    "rp_preview_frame": {"zh": "{week} 周报预览（{edition}）", "en": "Preview of {week} ({edition})"},
    "rp_narrative": {"zh": "叙述：摘要与要点", "en": "Narrative: summary and highlights"},
    "rp_narrative_note": {
        "zh": "由分析人员撰写，按纯文本显示在各格式的第一部分（基本态势）；不会改变任何数字。",
        "en": "Written by an analyst and printed as plain text in the first section (the overview) of every "
        "format; it changes no number.",
    },
    "rp_summary": {"zh": "摘要（{limit} 字以内，一段）", "en": "Summary (one paragraph, at most {limit} characters)"},
    "rp_highlights": {
        "zh": "要点（每行一条，最多 {count} 条，每条 {limit} 字以内）",
        "en": "Highlights (one a line, at most {count}, {limit} characters each)",
    },
    "rp_lang_zh": {"zh": "中文", "en": "Chinese"},
    "rp_lang_en": {"zh": "英文", "en": "English"},
    "rp_narrative_save": {"zh": "保存叙述", "en": "Save the narrative"},
    "rp_narrative_by": {"zh": "{name} 最后修改于 {at}", "en": "Last changed by {name} at {at}"},
    "rp_narrative_none": {"zh": "尚未撰写叙述。", "en": "No narrative written yet."},
    "rp_narrative_empty_lang": {"zh": "（未撰写）", "en": "(none)"},
    "rp_narrative_pending": {
        "zh": "叙述在发布后已修改：重新发布（刷新）后才会进入已发布的周报。",
        "en": "The narrative changed after publication: it reaches the published issue when it is refreshed.",
    },
    "rp_publishing": {"zh": "发布", "en": "Publishing"},
    "rp_publish_note": {
        "zh": "发布前会先运行检查；本周未结束或检查发现错误时拒绝发布，除非填写理由强制发布（理由记入发布记录）。",
        "en": "Publishing runs the check first. A week that has not ended, or whose check found errors, is "
        "refused unless a reason to force it is given (the reason is recorded in the history).",
    },
    "rp_force_reason": {
        "zh": "强制发布的理由（仅在被拒绝时需要）",
        "en": "Reason to force it (only needed when refused)",
    },
    "rp_publish_button": {"zh": "发布本周周报", "en": "Publish the week"},
    "rp_refresh_button": {"zh": "重新计算并发布（刷新）", "en": "Refresh: re-compute and publish"},
    "rp_republish_button": {"zh": "再次发布", "en": "Publish again"},
    "rp_refresh_note": {
        "zh": "刷新会重新计算数字并采用叙述工作稿；有变化时生成新版本并记录变化。",
        "en": "Refreshing re-computes the numbers and takes the narrative as written; when something changed, "
        "a new revision records what.",
    },
    "rp_unpublish": {"zh": "撤回本期", "en": "Withdraw the issue"},
    "rp_unpublish_reason": {
        "zh": "撤回理由（将显示在公开归档中）",
        "en": "Reason for withdrawing (shown in the public archive)",
    },
    "rp_unpublish_button": {"zh": "撤回", "en": "Withdraw"},
    "rp_refused": {"zh": "未发布：", "en": "Not published:"},
    "rp_refused_forceable": {
        "zh": "如确需现在发布，请填写理由后再次提交（强制发布）。",
        "en": "To publish it anyway, give a reason and submit again (forced).",
    },
    "rp_refused_final": {"zh": "本周尚未开始，不能发布。", "en": "The week has not started: it cannot be published."},
    "rp_stale": {
        "zh": "未保存：{reason}。表单保留了您的输入，预览显示当前内容；再次保存将覆盖。",
        "en": "Not saved: {reason}. The form keeps what you typed and the preview shows the narrative as it is "
        "now; saving again replaces it.",
    },
    "rp_done_saved": {"zh": "叙述已保存。", "en": "The narrative was saved."},
    "rp_done_published": {"zh": "已发布。", "en": "Published."},
    "rp_done_refreshed": {"zh": "已刷新为新版本。", "en": "Refreshed as a new revision."},
    "rp_done_republished": {"zh": "已再次发布。", "en": "Published again."},
    "rp_done_unchanged": {
        "zh": "重新计算后没有变化，版本未变。",
        "en": "Re-computed: nothing changed, the revision stays.",
    },
    "rp_done_withdrawn": {"zh": "已撤回。", "en": "Withdrawn."},
    "rp_history": {"zh": "发布记录", "en": "History"},
    "rp_col_action": {"zh": "操作", "en": "Action"},
    "rp_col_at": {"zh": "时间", "en": "When"},
    "rp_col_details": {"zh": "说明", "en": "Details"},
    "rp_action_published": {"zh": "发布", "en": "published"},
    "rp_action_refreshed": {"zh": "刷新", "en": "refreshed"},
    "rp_action_republished": {"zh": "再次发布", "en": "republished"},
    "rp_action_withdrawn": {"zh": "撤回", "en": "withdrawn"},
    "rp_changes": {
        "zh": "{numbers} 处数字或编号变化，{texts} 处叙述变化",
        "en": "{numbers} numbers or ID lists changed, {texts} narrative texts",
    },
    "rp_forced": {"zh": "强制：{reason}", "en": "forced: {reason}"},
    "rp_files": {"zh": "下载", "en": "Downloads"},
    "rp_files_note": {
        "zh": "已生成在 reports/{week}/ 的文件（可能早于最近的修改）。在后台生成全部格式，或在命令行运行："
        "sitrep report --week {week}",
        "en": "The files rendered in reports/{week}/ (they may predate the latest changes). Render every format "
        "in the background, or on the command line: sitrep report --week {week}",
    },
    "rp_render": {"zh": "生成全部格式（中英文）", "en": "Render every format (zh and en)"},
    "rp_files_none": {"zh": "尚未生成任何文件。", "en": "Nothing rendered yet."},
    "rp_files_missing": {"zh": "尚未生成：", "en": "Not rendered yet: "},
    "rp_col_lang": {"zh": "语言", "en": "Language"},
    "rp_col_format": {"zh": "格式", "en": "Format"},
    "rp_col_size": {"zh": "大小", "en": "Size"},
    "rp_col_modified": {"zh": "生成时间（UTC）", "en": "Rendered (UTC)"},
    "rp_format_html": {"zh": "HTML", "en": "HTML"},
    "rp_format_pdf": {"zh": "PDF", "en": "PDF"},
    "rp_format_md": {"zh": "Markdown", "en": "Markdown"},
    "rp_format_json": {"zh": "JSON", "en": "JSON"},
    "rp_format_wechat": {"zh": "微信公众号", "en": "WeChat"},
    "rp_dashboard_link": {"zh": "本周周报工作台 →", "en": "Report workspace of this week →"},
    # -- the dashboard at scale (web desk speed) --
    "overdue_more": {
        "zh": "以上为逾期最久的 {shown} 个，共 {total} 个：见协调台账",
        "en": "The {shown} longest overdue of {total}: see the coordination ledger",
    },
    # -- incident desk: the complaint mails of an incident (h-complaints) --
    "inc_mails": {"zh": "投诉邮件", "en": "Complaint mails"},
    "mail_received": {"zh": "收到时间", "en": "Received"},
    "mail_from": {"zh": "发件人", "en": "From"},
    "mail_subject": {"zh": "主题", "en": "Subject"},
    "mail_action": {"zh": "处理", "en": "Taken as"},
    "mail_attachments": {"zh": "附件", "en": "Attachments"},
    "mail_reply": {"zh": "自动回复", "en": "Acknowledgement"},
    "mail_download": {"zh": "下载原始邮件（.eml）", "en": "Download the mail (.eml)"},
    "mail_bytes": {"zh": "{size} 字节", "en": "{size} bytes"},
    # -- refusals of the bulk changes (incidents.service.REFUSAL_KINDS) --
    "refused_unknown_incident": {"zh": "没有编号为 {ref} 的事件", "en": "no incident with ref {ref}"},
    "refused_already_triaged": {
        "zh": "该事件已是“{status}”：只有新建的事件可以接受或驳回",
        "en": "it is {status} already: only a new incident is accepted or rejected",
    },
    "refused_illegal_transition": {
        "zh": "不能从“{current}”转为“{goal}”",
        "en": "cannot go from {current} to {goal}",
    },
}


def language(value: str | None) -> str:
    """``value`` when it is an interface language, else the default (Chinese)."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def text(lang: str, key: str, **values: object) -> str:
    """The interface string ``key`` in ``lang``, with ``values`` filled in."""
    template = STRINGS[key][language(lang)]
    return template.format(**values) if values else template


def refusal(lang: str, refused: Refused) -> str:
    """Why a bulk change left an incident as it was, in ``lang`` (the core's words for a refusal the
    interface has no string of)."""
    if not refused.kind:
        return refused.reason
    values = {k: text(lang, f"status_{v}") if f"status_{v}" in STRINGS else v for k, v in refused.values.items()}
    return text(lang, f"refused_{refused.kind}", ref=refused.ref, **values)


class Translator:
    """``t("key", name=...)`` in templates: the strings of one language."""

    def __init__(self, lang: str) -> None:
        self.lang = language(lang)

    def __call__(self, key: str, **values: object) -> str:
        return text(self.lang, key, **values)
