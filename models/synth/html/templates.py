"""The HTML page templates: invoice, receipt, table-heavy form, app screen (phone and
desktop), product label and ID/bank/staff card. Each returns ``(css, body)`` for a viewport;
rows marked ``data-trim`` are dropped from the end until the content fits."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Tuple

from ..text_sources import GOODS_EN, GOODS_ZH, UI_EN, UI_ZH, UNITS_ZH
from .style import Style, esc, hex_color


@dataclass(frozen=True)
class Template:
    name: str
    weight: float
    aspect: Tuple[float, float]     # width / height
    long_css: Tuple[int, int]       # long side of the viewport in CSS px
    build: Callable[["Style", int, int], Tuple[str, str]]   # (css, body)


def _goods(s: Style) -> str:
    return s.src.pick(GOODS_ZH) + s.src.rng.choice(["", "", " 500ml", "(大)", " 1kg", "礼盒装"]) if s.zh() \
        else s.src.pick(GOODS_EN).title() + s.src.rng.choice(["", "", " 500ml", " Large", " 1kg"])


def _money(s: Style, lo: float = 1, hi: float = 999) -> str:
    return f"{s.rng.uniform(lo, hi):.2f}"


def tpl_invoice(s: Style, w: int, h: int) -> Tuple[str, str]:
    src = s.src
    size = s.px(9, 16)
    pad = int(w * s.rng.uniform(0.03, 0.07))
    line, ink = s.line(), s.ink()
    bw = int(s.rng.integers(1, 3))
    title_color = s.pick([ink, "#a8322a", "#8b5a2b", s.accent()])
    cols = int(s.rng.integers(2, 4))
    css = f"""
    .inv {{ position:relative; width:100%; height:100%; padding:{pad}px; background:{s.paper()}; color:{ink};
            font-size:{size}px; line-height:{s.rng.uniform(1.3, 1.7):.2f}; {s.font(plain=True)} }}
    .inv h1 {{ margin:0 0 {size}px; text-align:center; font-size:{s.px(18, 40)}px; color:{title_color};
               letter-spacing:{int(s.rng.integers(0, 8))}px; {s.font()} }}
    .inv .no {{ text-align:right; color:{s.pick([ink, '#b03030'])}; margin-bottom:{size // 2}px; }}
    .meta {{ display:grid; grid-template-columns:repeat({cols}, 1fr); gap:{size // 3}px {size * 2}px;
             margin-bottom:{size}px; }}
    .meta .k {{ color:{s.pick([ink, s.accent(), '#666'])}; }}
    table {{ border-collapse:collapse; width:100%; border:{bw + 1}px solid {line}; }}
    td, th {{ border:{bw}px {s.pick(['solid', 'solid', 'dashed', 'dotted'])} {line}; padding:{size // 3}px {size // 2}px; }}
    th {{ background:{s.pick(['transparent', '#eef2f7', '#f3efe6', '#e8f0e8'])}; font-weight:{s.pick([400, 700])}; }}
    td.n {{ text-align:right; }}
    .sum {{ display:flex; justify-content:space-between; margin-top:{size}px; font-size:{int(size * 1.15)}px; }}
    .foot {{ display:flex; gap:{size * 3}px; margin-top:{size}px; color:{s.pick([ink, '#555'])}; }}
    .seal {{ position:absolute; right:{int(w * s.rng.uniform(0.08, 0.3))}px; bottom:{int(h * s.rng.uniform(0.05, 0.3))}px;
             width:{int(min(w, h) * 0.22)}px; height:{int(min(w, h) * 0.22)}px; border:{max(2, size // 4)}px solid #d23;
             border-radius:50%; color:#d23; opacity:0.75; display:flex; align-items:center; justify-content:center;
             font-size:{max(9, int(min(w, h) * 0.028))}px; }}
    """
    title = s.pick(["增值税普通发票", "增值税专用发票", "销售清单", "报价单", "送货单", "收款收据"]) if s.zh() \
        else s.pick(["INVOICE", "Tax Invoice", "Sales Order", "Quotation", "Delivery Note", "Receipt"])
    keys = [("发票号码", "Invoice No."), ("开票日期", "Date"), ("购买方", "Bill to"), ("纳税人识别号", "Tax ID"),
            ("地址电话", "Address"), ("开户行及账号", "Bank"), ("销售方", "Seller"), ("订单号", "Order No.")]
    values = [src.code, s.date, lambda: src.zh.company() if s.zh() else src.en.company(), src.code,
              lambda: src.zh.address() if s.zh() else src.en.address().replace("\n", ", "),
              lambda: src.zh.city() + "银行 " + src.code()[:12], lambda: src.zh.company() if s.zh() else src.en.company(),
              src.code]
    n = int(s.rng.integers(3, len(keys) + 1))
    meta = "".join(f'<div><span class="k">{esc(s.t(*keys[i]))}{s.pick(["：", ": ", " "])}</span>'
                   f'<span>{esc(values[i]())}</span></div>' for i in range(n))
    head = [("货物名称", "Description"), ("规格型号", "Spec"), ("单位", "Unit"), ("数量", "Qty"),
            ("单价", "Unit price"), ("金额", "Amount"), ("税率", "Tax"), ("税额", "Tax amt")]
    ncol = int(s.rng.integers(4, len(head) + 1))
    ths = "".join(f"<th>{esc(s.t(*head[k]))}</th>" for k in range(ncol))
    rows = []
    for _ in range(int(s.rng.integers(4, 30))):
        cells = [_goods(s), src.code()[:int(s.rng.integers(3, 8))], src.pick(UNITS_ZH) if s.zh() else "pcs",
                 str(int(s.rng.integers(1, 200))), _money(s), _money(s, 10, 9999),
                 f"{int(s.rng.choice([3, 6, 9, 13]))}%", _money(s, 1, 500)]
        tds = "".join(f'<td{" class=n" if k >= 3 else ""}>{esc(cells[k])}</td>' for k in range(ncol))
        rows.append(f"<tr data-trim>{tds}</tr>")
    total = src.amount()
    seal = f'<div class="seal">{esc(s.t("发票专用章", "PAID"))}</div>' if s.rng.random() < 0.4 else ""
    foot = "".join(f"<span>{esc(s.t(a, b))}: {esc(src.zh.name() if s.zh() else src.en.name())}</span>"
                   for a, b in (("开票人", "Issued by"), ("复核", "Checked"), ("收款人", "Payee"))[:int(s.rng.integers(1, 4))])
    body = f"""<div class="inv"><h1>{esc(title)}</h1><div class="no">No. {esc(src.code())}</div>
    <div class="meta">{meta}</div><table><tr>{ths}</tr>{''.join(rows)}</table>
    <div class="sum"><span>{esc(s.t('价税合计（大写）', 'Total due'))}</span><span>{esc(total)}</span></div>
    <div class="foot">{foot}</div>{seal}</div>"""
    return css, body


def tpl_receipt(s: Style, w: int, h: int) -> Tuple[str, str]:
    src = s.src
    size = s.px(9, 17)
    mono = s.rng.random() < 0.6
    desk = s.rng.random() < 0.35
    margin = int(w * s.rng.uniform(0.04, 0.15)) if desk else 0
    css = f"""
    body {{ background:{hex_color(s.rng.integers(40, 160, 3)) if desk else s.paper()}; }}
    .r {{ margin:{int(margin * 0.5)}px {margin}px; min-height:100%; background:{s.paper()}; color:{s.ink()};
          padding:{int(size * s.rng.uniform(0.8, 2))}px {int(size * s.rng.uniform(0.6, 1.6))}px;
          font-size:{size}px; line-height:{s.rng.uniform(1.25, 1.6):.2f}; {s.font(mono=mono, plain=True)} }}
    .c {{ text-align:center; }}
    .shop {{ font-size:{int(size * s.rng.uniform(1.3, 2.0))}px; font-weight:700; margin-bottom:{size // 2}px; }}
    .hr {{ border-top:{int(s.rng.integers(1, 3))}px {s.pick(['dashed', 'dotted', 'solid'])} currentColor;
           margin:{size // 2}px 0; opacity:0.8; }}
    .it {{ display:flex; justify-content:space-between; gap:{size}px; }}
    .it .q {{ margin-left:auto; min-width:{size * 3}px; text-align:right; }}
    .tot {{ display:flex; justify-content:space-between; font-size:{int(size * s.rng.uniform(1.0, 1.4))}px; }}
    .bar {{ height:{size * 3}px; margin:{size}px {size * 2}px {size // 3}px;
            background:repeating-linear-gradient(90deg, #111 0 {int(s.rng.integers(1, 3))}px, transparent 0 {int(s.rng.integers(3, 5))}px,
              #111 0 {int(s.rng.integers(5, 8))}px, transparent 0 {int(s.rng.integers(8, 11))}px); }}
    """
    shop = src.zh.company() if s.zh() else src.en.company().upper()
    lines = [s.date(), s.t("单号：", "Order #") + src.code(), s.t("电话：", "TEL ") + src.zh.phone_number(),
             src.zh.address() if s.zh() else src.en.address().replace("\n", ", "),
             s.t("收银员：", "Cashier: ") + (src.zh.name() if s.zh() else src.en.first_name())]
    head = "".join(f'<div data-trim>{esc(x)}</div>' for x in lines[:int(s.rng.integers(2, 6))])
    items = []
    for _ in range(int(s.rng.integers(3, 30))):
        qty = f"{int(s.rng.integers(1, 10))}{src.pick(UNITS_ZH) if s.zh() and s.rng.random() < 0.4 else ''}"
        if s.rng.random() < 0.5:
            items.append(f'<div class="it" data-trim><span>{esc(_goods(s))}</span><span class="q">x{esc(qty)}</span>'
                         f'<span>{_money(s, 1, 300)}</span></div>')
        else:
            items.append(f'<div data-trim>{esc(_goods(s))}</div><div class="it" data-trim><span>{esc(qty)} @ {_money(s, 1, 99)}'
                         f'</span><span>{_money(s, 1, 300)}</span></div>')
    tots = "".join(f'<div class="tot"><span>{esc(s.t(a, b))}</span><span>{esc(src.amount())}</span></div>'
                   for a, b in (("合计", "TOTAL"), ("实收", "CASH"), ("找零", "CHANGE"), ("优惠", "DISCOUNT"))[:int(s.rng.integers(1, 5))])
    foot = s.t(s.pick(["谢谢惠顾，欢迎再次光临", "请妥善保管小票", "凭小票七日内可退换"]),
               s.pick(["THANK YOU, COME AGAIN", "Keep this receipt", "Returns within 7 days"]))
    bar = f'<div class="bar"></div><div class="c">{esc(src.code())}</div>' if s.rng.random() < 0.5 else ""
    body = f"""<div class="r"><div class="c shop">{esc(shop)}</div>{head}<div class="hr"></div>{''.join(items)}
    <div class="hr"></div>{tots}<div class="hr"></div><div class="c">{esc(foot)}</div>{bar}</div>"""
    return css, body


def tpl_form(s: Style, w: int, h: int) -> Tuple[str, str]:
    src = s.src
    size = s.px(9, 16)
    line = s.line()
    bw = int(s.rng.integers(1, 3))
    css = f"""
    .f {{ width:100%; height:100%; padding:{int(w * s.rng.uniform(0.03, 0.08))}px; background:{s.paper()}; color:{s.ink()};
          font-size:{size}px; line-height:{s.rng.uniform(1.3, 1.7):.2f}; {s.font(plain=True)} }}
    h2 {{ text-align:center; margin:0 0 {size // 2}px; font-size:{s.px(16, 34)}px; {s.font()} }}
    .sub {{ display:flex; justify-content:space-between; margin-bottom:{size // 2}px; font-size:{max(8, size - 2)}px; }}
    table {{ border-collapse:collapse; width:100%; }}
    td {{ border:{bw}px solid {line}; padding:{size // 3}px {size // 2}px; vertical-align:middle; }}
    td.k {{ background:{s.pick(['transparent', '#f0f0f0', '#e9eef6', '#f6f0e4'])}; text-align:{s.pick(['center', 'left'])};
            width:{int(s.rng.integers(12, 20))}%; color:{s.pick(['inherit', s.accent()])}; }}
    .sign {{ display:flex; justify-content:space-between; margin-top:{size * 2}px; }}
    """
    title = s.t(s.pick(["入职登记表", "个人信息登记表", "设备借用申请表", "报销单", "会员申请表", "维修服务单"]),
                s.pick(["Registration Form", "Application Form", "Expense Claim", "Service Request", "Membership Form"]))
    rows = []
    pairs = [(("姓名", "Name"), lambda: src.zh.name() if s.zh() else src.en.name()),
             (("性别", "Sex"), lambda: s.t("□男 ☑女", "☑ M  □ F") if s.rng.random() < 0.5 else s.t("男", "M")),
             (("出生日期", "Date of birth"), s.date), (("联系电话", "Phone"), src.zh.phone_number),
             (("电子邮箱", "Email"), src.en.email), (("部门", "Department"), lambda: s.t(s.pick(["财务部", "技术部", "市场部", "人事部"]), src.en.job()[:24])),
             (("证件号码", "ID number"), s.ssn), (("金额", "Amount"), src.amount), (("日期", "Date"), s.date),
             (("编号", "Ref."), src.code)]
    order = s.rng.permutation(len(pairs))
    for a, b in zip(order[0::2], order[1::2]):
        (ka, fa), (kb, fb) = pairs[a], pairs[b]
        rows.append(f'<tr data-trim><td class="k">{esc(s.t(*ka))}</td><td>{esc(fa())}</td>'
                    f'<td class="k">{esc(s.t(*kb))}</td><td>{esc(fb())}</td></tr>')
    rows.insert(int(s.rng.integers(0, len(rows) + 1)),
                f'<tr><td class="k">{esc(s.t("地址", "Address"))}</td><td colspan="3">'
                f'{esc(src.zh.address() if s.zh() else src.en.address().replace(chr(10), ", "))}</td></tr>')
    remark = "，".join(src.zh_sentence(30) for _ in range(int(s.rng.integers(1, 4)))) if s.zh() \
        else " ".join(src.en_sentence(14) + "." for _ in range(int(s.rng.integers(1, 4))))
    rows.append(f'<tr><td class="k">{esc(s.t("备注", "Remarks"))}</td><td colspan="3">{esc(remark)}</td></tr>')
    if s.rng.random() < 0.6:   # a grid of items
        heads = [s.t(*x) for x in (("序号", "No."), ("项目", "Item"), ("数量", "Qty"), ("金额", "Amount"), ("说明", "Note"))]
        rows.append("<tr>" + "".join(f'<td class="k">{esc(x)}</td>' for x in heads) + "</tr>")
        for k in range(int(s.rng.integers(2, 20))):
            rows.append(f"<tr data-trim><td>{k + 1}</td><td>{esc(_goods(s))}</td><td>{int(s.rng.integers(1, 50))}</td>"
                        f"<td>{esc(src.amount())}</td><td>{esc(src.zh.word() if s.zh() else src.en.word())}</td></tr>")
    sign = s.t(f"申请人签字：______ 日期：{s.date()}", f"Signature: ________ Date: {s.date()}")
    body = f"""<div class="f"><h2>{esc(title)}</h2><div class="sub"><span>{esc(s.t('编号', 'No.'))}: {esc(src.code())}</span>
    <span>{esc(s.t('填表日期', 'Filled'))}: {esc(s.date())}</span></div><table>{''.join(rows)}</table>
    <div class="sign"><span>{esc(sign)}</span></div></div>"""
    return css, body


def tpl_app(s: Style, w: int, h: int) -> Tuple[str, str]:
    src = s.src
    phone = w < h
    dark = s.rng.random() < 0.25
    bg, fg, sub = ("#16171b", "#e8e8e8", "#9a9a9a") if dark else ("#f7f7f7", "#1c1c1c", "#8a8a8a")
    card = "#22242a" if dark else "#ffffff"
    acc = s.accent()
    size = s.px(11, 18)
    bar_fg = "#ffffff" if s.rng.random() < 0.7 else "#111111"
    css = f"""
    body {{ background:{bg}; color:{fg}; font-size:{size}px; line-height:1.35; {s.font(plain=True)} }}
    .status {{ display:flex; justify-content:space-between; padding:{size // 3}px {size}px; font-size:{max(9, size - 3)}px;
               background:{acc}; color:{bar_fg}; }}
    .nav {{ display:flex; align-items:center; gap:{size}px; padding:{size // 2}px {size}px {int(size * 0.7)}px; background:{acc};
            color:{bar_fg}; font-size:{int(size * 1.25)}px; font-weight:600; }}
    .search {{ margin:{size // 2}px {size}px; padding:{size // 3}px {size}px; border-radius:{size}px; background:{card}; color:{sub}; }}
    .row {{ display:flex; align-items:center; gap:{int(size * 0.8)}px; padding:{int(size * 0.6)}px {size}px; background:{card};
            border-bottom:1px solid {'#2e3036' if dark else '#e6e6e6'}; }}
    .av {{ width:{int(size * 2.8)}px; height:{int(size * 2.8)}px; border-radius:{s.pick(['50%', '8px'])}; flex:none;
           display:flex; align-items:center; justify-content:center; color:#fff; font-size:{int(size * 1.2)}px; }}
    .body {{ flex:1; min-width:0; }}
    .t1 {{ font-size:{int(size * 1.05)}px; }}
    .t2 {{ color:{sub}; font-size:{max(8, int(size * 0.85))}px; }}
    .meta {{ color:{sub}; font-size:{max(8, int(size * 0.8))}px; text-align:right; }}
    .badge {{ display:inline-block; margin-top:2px; padding:0 {size // 3}px; border-radius:{size}px; background:#e53935; color:#fff;
              font-size:{max(8, int(size * 0.75))}px; }}
    .btn {{ margin:{size}px; padding:{int(size * 0.7)}px; text-align:center; border-radius:{size // 2}px; background:{acc}; color:{bar_fg}; }}
    .tabs {{ position:fixed; left:0; right:0; bottom:0; display:flex; justify-content:space-around; padding:{size // 3}px 0 {size // 2}px;
             background:{card}; border-top:1px solid {'#2e3036' if dark else '#ddd'}; font-size:{max(8, int(size * 0.75))}px; }}
    .tabs div {{ text-align:center; }}
    .ico {{ width:{int(size * 1.4)}px; height:{int(size * 1.4)}px; margin:0 auto 2px; border-radius:4px; border:2px solid {sub}; }}
    .side {{ position:fixed; left:0; top:0; bottom:0; width:{int(w * 0.2)}px; background:{'#1f2228' if dark else '#2b3645'}; color:#dfe6ee;
             padding:{size}px; }}
    .side div {{ padding:{size // 3}px 0; }}
    .main {{ margin-left:{int(w * 0.2)}px; }}
    table {{ border-collapse:collapse; margin:{size}px; width:calc(100% - {2 * size}px); background:{card}; }}
    td, th {{ border-bottom:1px solid {'#2e3036' if dark else '#e3e3e3'}; padding:{size // 2}px; text-align:left; }}
    """
    status = (f'<div class="status"><span>{int(s.rng.integers(0, 24))}:{int(s.rng.integers(0, 60)):02d}</span>'
              f'<span>{s.pick(["4G", "5G", "WiFi", "LTE"])} {int(s.rng.integers(5, 100))}%</span></div>')
    title = s.t(s.pick(["消息", "通讯录", "设置", "订单", "购物车", "我的", "钱包"]), s.pick(["Messages", "Contacts", "Settings", "Orders", "Cart", "Wallet"]))
    nav = f'<div class="nav"><span>{s.pick(["‹", "<", "☰"])}</span><span>{esc(title)}</span></div>'
    search = f'<div class="search">{esc(s.t("搜索", "Search"))} {esc(s.pick(UI_ZH) if s.zh() else s.pick(UI_EN))}</div>'
    chars = max(6, int((w * (0.62 if phone else 0.5)) / (size * 0.95)))

    def person() -> str:
        return src.zh.name() if s.zh() else src.en.name()

    rows = []
    for _ in range(int(s.rng.integers(4, 16))):
        col = hex_color(s.rng.integers(60, 220, 3))
        name = s.pick([person, lambda: src.zh.company() if s.zh() else src.en.company()])()
        second = src.zh_sentence(chars) if s.zh() else " ".join(src.en_sentence(12).split()[:max(2, chars // 6)])
        meta = s.pick([f"{int(s.rng.integers(0, 24))}:{int(s.rng.integers(0, 60)):02d}", s.t("昨天", "Yesterday"),
                       s.date()[:10], "¥" + _money(s, 1, 999)])
        badge = f'<br><span class="badge">{int(s.rng.integers(1, 99))}</span>' if s.rng.random() < 0.3 else ""
        rows.append(f'<div class="row" data-trim><div class="av" style="background:{col}">{esc(name[0])}</div>'
                    f'<div class="body"><div class="t1">{esc(name)}</div><div class="t2">{esc(second)}</div></div>'
                    f'<div class="meta">{esc(meta)}{badge}</div></div>')
    btn = f'<div class="btn" data-trim>{esc(s.pick(UI_ZH) if s.zh() else s.pick(UI_EN))}</div>' if s.rng.random() < 0.4 else ""
    if phone:
        tabs = "".join(f'<div><div class="ico"></div>{esc(s.t(a, b))}</div>' for a, b in
                       (("首页", "Home"), ("消息", "Chats"), ("发现", "Discover"), ("购物车", "Cart"), ("我的", "Me"))[:int(s.rng.integers(3, 6))])
        body = f'{status}{nav}{search}{"".join(rows)}{btn}<div class="tabs">{tabs}</div>'
    else:
        menu = "".join(f"<div>{esc(s.pick(UI_ZH) if s.zh() else s.pick(UI_EN))}</div>" for _ in range(int(s.rng.integers(4, 10))))
        heads = "".join(f"<th>{esc(s.t(a, b))}</th>" for a, b in (("名称", "Name"), ("日期", "Date"), ("状态", "Status"), ("金额", "Amount")))
        trs = "".join(f"<tr data-trim><td>{esc(person())}</td><td>{esc(s.date())}</td>"
                      f"<td>{esc(s.t(s.pick(['已完成', '处理中', '待审核']), s.pick(['Done', 'Pending', 'Review'])))}</td>"
                      f"<td>{esc(src.amount())}</td></tr>" for _ in range(int(s.rng.integers(3, 14))))
        body = (f'<div class="side"><div style="font-weight:700">{esc(src.zh.company()[:6] if s.zh() else src.en.company()[:14])}</div>{menu}</div>'
                f'<div class="main">{nav}{search}<table><tr>{heads}</tr>{trs}</table>{"".join(rows[:4])}</div>')
    return css, body


def tpl_label(s: Style, w: int, h: int) -> Tuple[str, str]:
    src = s.src
    c1, c2 = s.rng.integers(0, 256, 3), s.rng.integers(0, 256, 3)
    light = (c1.mean() + c2.mean()) / 2 > 128
    fg = s.ink() if light else hex_color(s.rng.integers(225, 256, 3))
    size = s.px(9, 18)
    panel_bg = s.pick(["rgba(255,255,255,0.92)", "#ffffff", "#fffbe8"])
    pattern = (f", repeating-linear-gradient({int(s.rng.integers(0, 180))}deg, rgba(255,255,255,0.08) 0 6px, transparent 6px 14px)"
               if s.rng.random() < 0.5 else "")
    css = f"""
    body {{ background:linear-gradient({int(s.rng.integers(0, 360))}deg, {hex_color(c1)}, {hex_color(c2)}){pattern}; color:{fg};
            padding:{int(w * s.rng.uniform(0.03, 0.07))}px; font-size:{size}px; line-height:1.4; {s.font(plain=True)} }}
    .brand {{ font-size:{s.px(28, 60)}px; font-weight:800; letter-spacing:{int(s.rng.integers(0, 6))}px; line-height:1.1; {s.font()} }}
    .name {{ font-size:{s.px(18, 40)}px; margin:{size // 2}px 0; {s.font()} }}
    .tag {{ font-size:{s.px(11, 20)}px; font-style:italic; margin-bottom:{size}px; }}
    .panel {{ display:flex; gap:{size}px; background:{panel_bg}; color:#1a1a1a; padding:{size}px; border-radius:{int(s.rng.integers(0, 12))}px; }}
    .panel > div {{ flex:1; }}
    table {{ border-collapse:collapse; width:100%; }}
    td, th {{ border:1px solid #333; padding:1px {size // 2}px; }}
    th {{ background:#222; color:#fff; }}
    .bar {{ width:{size * 12}px; height:{size * 4}px; margin-top:{size}px;
            background:repeating-linear-gradient(90deg, #000 0 2px, #fff 0 3px, #000 0 4px, #fff 0 7px); }}
    """
    brand = src.en.last_name().upper() if s.rng.random() < 0.5 else src.zh.last_name() + s.pick(["记", "牌", "坊", "食品", "家"])
    name = (src.pick(GOODS_ZH) + s.pick(["", "味", "风味", "（经典装）"])) if s.zh() else src.pick(GOODS_EN).title()
    tag = src.en.catch_phrase() if s.rng.random() < 0.6 else src.zh_sentence(14)
    info = [(("配料", "Ingredients"), lambda: "、".join(src.zh.words(int(s.rng.integers(3, 8)))) if s.zh() else ", ".join(src.en.words(int(s.rng.integers(3, 8))))),
            (("净含量", "Net wt."), lambda: s.pick(["500g", "250ml", "1.5L", "330ml", "2kg", "12×25g"])),
            (("生产日期", "MFD"), s.date), (("保质期", "Best before"), lambda: s.t(s.pick(["12个月", "180天", "18个月"]), s.date())),
            (("贮存条件", "Storage"), lambda: s.t("阴凉干燥处，避免阳光直射", "Keep in a cool dry place")),
            (("生产商", "Made by"), lambda: src.zh.company() if s.zh() else src.en.company()),
            (("地址", "Address"), lambda: src.zh.address() if s.zh() else src.en.address().replace("\n", ", ")),
            (("电话", "Tel"), src.zh.phone_number)]
    lines = "".join(f'<div data-trim>{esc(s.t(*k))}{s.pick(["：", ": "])}{esc(f())}</div>' for k, f in info[:int(s.rng.integers(3, 9))])
    nut = ""
    if s.rng.random() < 0.6:
        heads = "".join(f"<th>{esc(s.t(a, b))}</th>" for a, b in (("项目", "Item"), ("每100g", "Per 100g"), ("NRV%", "NRV%")))
        rows = "".join(f"<tr><td>{esc(s.t(a, b))}</td><td>{s.rng.uniform(0, 2000):.0f}{u}</td><td>{int(s.rng.integers(0, 60))}%</td></tr>"
                       for (a, b), u in ((("能量", "Energy"), "kJ"), (("蛋白质", "Protein"), "g"), (("脂肪", "Fat"), "g"),
                                         (("碳水化合物", "Carbohydrate"), "g"), (("钠", "Sodium"), "mg")))
        nut = f"<div><table><tr>{heads}</tr>{rows}</table></div>"
    bar = f'<div class="bar"></div><div>{esc(src.code()[:13])}</div>' if s.rng.random() < 0.5 else ""
    body = f"""<div class="brand">{esc(brand)}</div><div class="name">{esc(name)}</div><div class="tag">{esc(tag)}</div>
    <div class="panel"><div>{lines}{bar}</div>{nut}</div>"""
    return css, body


def tpl_card(s: Style, w: int, h: int) -> Tuple[str, str]:
    src = s.src
    kind = s.pick(["id", "id", "bank", "badge"])
    margin = int(min(w, h) * s.rng.uniform(0.0, 0.08))
    c1, c2 = s.rng.integers(170, 250, 3), s.rng.integers(150, 250, 3)
    if kind == "bank":
        c1, c2 = s.rng.integers(10, 120, 3), s.rng.integers(20, 160, 3)
    fg = s.ink() if kind != "bank" else "#f4f4f4"
    size = s.px(10, 20)
    key = s.pick(["#3a5f9c", "#555", fg, "#2f6f4f"])
    css = f"""
    body {{ background:{hex_color(s.rng.integers(30, 200, 3))}; padding:{margin}px; }}
    .card {{ position:relative; width:100%; height:100%; border-radius:{int(min(w, h) * s.rng.uniform(0.02, 0.06))}px; overflow:hidden;
             background:linear-gradient({int(s.rng.integers(0, 360))}deg, {hex_color(c1)}, {hex_color(c2)}),
               repeating-radial-gradient(circle at {int(s.rng.integers(0, 100))}% {int(s.rng.integers(0, 100))}%, rgba(0,0,0,0.04) 0 2px, transparent 2px 7px);
             background-blend-mode:multiply; color:{fg}; padding:{int(h * 0.08)}px {int(w * 0.05)}px; font-size:{size}px; line-height:1.5;
             {s.font(plain=True)} }}
    .k {{ color:{key}; margin-right:{size}px; letter-spacing:{int(s.rng.integers(0, 5))}px; }}
    .row {{ margin-bottom:{int(size * s.rng.uniform(0.3, 0.9))}px; max-width:62%; }}
    .num {{ letter-spacing:{int(s.rng.integers(1, 4))}px; font-size:{int(size * 1.15)}px; {s.font(mono=s.rng.random() < 0.5)} }}
    .photo {{ position:absolute; right:{int(w * 0.06)}px; top:{int(h * 0.14)}px; width:{int(w * 0.24)}px; height:{int(h * 0.58)}px;
              background:radial-gradient(circle at 50% 38%, #8a8f99 0 22%, transparent 23%),
                         radial-gradient(ellipse at 50% 100%, #8a8f99 0 45%, transparent 46%), {hex_color(s.rng.integers(180, 240, 3))}; }}
    .big {{ font-size:{int(size * s.rng.uniform(1.5, 2.4))}px; font-weight:700; }}
    .chip {{ width:{int(w * 0.11)}px; height:{int(h * 0.16)}px; border-radius:6px; background:linear-gradient(135deg, #d9c27a, #a8893a);
             margin:{size}px 0; }}
    .cardno {{ font-size:{int(size * s.rng.uniform(1.4, 2.0))}px; letter-spacing:{int(s.rng.integers(1, 4))}px; word-spacing:{size // 2}px;
               {s.font(mono=True)} }}
    """
    if kind == "id":
        rows = [(("姓名", "Name"), src.zh.name() if s.zh() else src.en.name()),
                (("性别", "Sex"), s.t(s.pick(["男", "女"]), s.pick(["M", "F"])) + "　" + s.t("民族 汉", "")),
                (("出生", "Date of birth"), s.date()),
                (("住址", "Address"), src.zh.address() if s.zh() else src.en.address().replace("\n", ", "))]
        inner = "".join(f'<div class="row"><span class="k">{esc(s.t(*k))}</span>{esc(v)}</div>' for k, v in rows)
        inner += f'<div class="row" style="max-width:100%"><span class="k">{esc(s.t("公民身份号码", "ID No."))}</span><span class="num">{esc(s.ssn())}</span></div>'
        inner += '<div class="photo"></div>'
    elif kind == "badge":
        company = src.zh.company() if s.zh() else src.en.company()
        inner = (f'<div class="row" style="max-width:100%">{esc(company)}</div><div class="big">{esc(src.zh.name() if s.zh() else src.en.name())}</div>'
                 f'<div class="row"><span class="k">{esc(s.t("部门", "Dept."))}</span>{esc(s.t(s.pick(["研发部", "销售部", "行政部"]), src.en.job()[:20]))}</div>'
                 f'<div class="row"><span class="k">{esc(s.t("工号", "Staff No."))}</span><span class="num">{esc(src.code()[:8])}</span></div>'
                 '<div class="photo"></div>')
    else:
        groups = " ".join(str(int(s.rng.integers(1000, 10000))) for _ in range(4))
        inner = (f'<div class="big">{esc(s.t(src.zh.city() + "银行", src.en.last_name().upper() + " BANK"))}</div><div class="chip"></div>'
                 f'<div class="cardno">{groups}</div><div class="row">VALID THRU {int(s.rng.integers(1, 13)):02d}/{int(s.rng.integers(24, 35))}</div>'
                 f'<div class="row">{esc(src.en.name().upper())}</div>')
    return css, f'<div class="card">{inner}</div>'


TEMPLATES: Tuple[Template, ...] = (
    Template("invoice", 0.2, (0.7, 1.5), (560, 1400), tpl_invoice),
    Template("receipt", 0.17, (0.32, 0.62), (480, 1400), tpl_receipt),
    Template("form", 0.17, (0.68, 0.82), (560, 1400), tpl_form),
    Template("app", 0.18, (0.45, 0.58), (560, 1100), tpl_app),
    Template("desktop", 0.06, (1.3, 1.8), (700, 1400), tpl_app),
    Template("label", 0.12, (0.7, 1.5), (420, 1200), tpl_label),
    Template("card", 0.1, (1.5, 1.65), (440, 1000), tpl_card),
)


def page_document(css: str, body: str, width: int, height: int) -> str:
    return (f'<!doctype html><html><head><meta charset="utf-8"><style>'
            f"html, body {{ margin:0; padding:0; width:{width}px; height:{height}px; overflow:hidden; }}"
            f"* {{ box-sizing:border-box; }} {css}</style></head><body>{body}</body></html>")
