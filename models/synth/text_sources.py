"""Realistic strings for the renderer: Faker (zh_CN, en_US) plus small word lists.

One :class:`TextSource` per worker, seeded, so a render is reproducible from its seed.
"""
from __future__ import annotations

import random
import string
from typing import Callable, List

from faker import Faker

UNITS_ZH = ["个", "件", "盒", "瓶", "包", "袋", "kg", "斤", "箱"]
GOODS_ZH = ["矿泉水", "面包", "牛奶", "苹果", "香蕉", "洗衣液", "纸巾", "可乐", "咖啡", "大米", "酱油",
            "鸡蛋", "饼干", "薯片", "牙膏", "毛巾", "电池", "口罩", "茶叶", "巧克力", "酸奶", "方便面"]
GOODS_EN = ["WATER", "BREAD", "MILK", "APPLE", "COFFEE", "RICE", "TEA", "SOAP", "TISSUE", "JUICE",
            "BATTERY", "CHOCOLATE", "NOODLES", "EGGS", "BUTTER", "CHEESE", "SUGAR", "PASTA"]
SCENE_EN = ["OPEN", "EXIT", "STOP", "HOTEL", "PARKING", "BANK", "CAFE", "PHARMACY", "SALE", "SHOP",
            "ENTRANCE", "Restaurant", "Street", "Avenue", "Station", "Taxi", "Bus", "Market", "Bakery",
            "PIZZA", "BAR", "Books", "Fashion", "Welcome", "Police", "Hospital", "ONE WAY", "Coffee",
            "Burger", "Mall", "Center", "Fresh", "Food", "Hair", "Salon", "Dental", "Clinic", "Gym"]
SCENE_ZH = ["出口", "入口", "停车场", "银行", "超市", "药店", "餐厅", "酒店", "地铁站", "营业中", "欢迎光临",
            "便利店", "咖啡", "理发", "书店", "水果", "火锅", "小吃", "面馆", "五金", "烟酒", "茶庄"]
LABELS_ZH = ["姓名", "性别", "民族", "出生", "住址", "公民身份号码", "电话", "日期", "金额", "合计", "税额",
             "单价", "数量", "备注", "地址", "开户行", "发票号码", "收款人", "复核", "开票人", "规格型号"]
UI_EN = ["Settings", "Profile", "Messages", "Search", "Cancel", "OK", "Submit", "Login", "Sign up",
         "Home", "Back", "Next", "Share", "Download", "Upload", "Delete", "Edit", "Save", "Help"]
UI_ZH = ["设置", "我的", "消息", "搜索", "取消", "确定", "提交", "登录", "注册", "首页", "返回",
         "下一步", "分享", "下载", "上传", "删除", "编辑", "保存", "帮助", "通讯录", "发现", "购物车"]


class TextSource:
    """Strings of the kinds found on receipts, invoices, IDs, screens, packages and streets."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.zh = Faker("zh_CN")
        self.en = Faker("en_US")
        self.zh.seed_instance(seed)
        self.en.seed_instance(seed + 1)

    def pick(self, items: List[str]) -> str:
        return self.rng.choice(items)

    def amount(self) -> str:
        v = self.rng.choice([self.rng.uniform(0.5, 50), self.rng.uniform(10, 3000), self.rng.uniform(1000, 99999)])
        prefix = self.rng.choice(["", "", "¥", "￥", "$", "RMB "])
        return f"{prefix}{v:,.2f}" if self.rng.random() < 0.3 else f"{prefix}{v:.2f}"

    def date(self) -> str:
        d = self.en.date_object()
        return self.rng.choice([d.strftime("%Y-%m-%d"), d.strftime("%Y/%m/%d"), d.strftime("%d.%m.%Y"),
                                f"{d.year}年{d.month}月{d.day}日", d.strftime("%Y-%m-%d ") + self.en.time()])

    def code(self) -> str:
        n = self.rng.randint(6, 18)
        alphabet = string.digits if self.rng.random() < 0.6 else string.digits + string.ascii_uppercase
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def zh_sentence(self, max_chars: int = 30) -> str:
        s = self.zh.sentence(nb_words=self.rng.randint(3, 12)).rstrip("。.")
        return s[:max_chars]

    def en_sentence(self, max_words: int = 10) -> str:
        return self.en.sentence(nb_words=self.rng.randint(2, max_words)).rstrip(".")

    def field(self) -> str:
        """A short labelled value as printed on forms: ``电话: 138...``."""
        key = self.pick(LABELS_ZH)
        value = self.rng.choice([self.zh.name(), self.zh.phone_number(), self.date(), self.amount(),
                                 self.code(), self.zh.city()])
        sep = self.rng.choice([": ", "：", " ", ":"])
        return f"{key}{sep}{value}"

    def any_line(self) -> str:
        gens: List[Callable[[], str]] = [
            self.zh_sentence, self.en_sentence, self.field, self.zh.address, self.en.address,
            self.zh.company, self.en.company, lambda: self.zh.name() + " " + self.zh.phone_number(),
            self.date, self.amount, self.code, self.en.email, self.en.url, lambda: self.en.catch_phrase(),
        ]
        return self.rng.choice(gens)().replace("\n", " ")

    def scene_word(self) -> str:
        r = self.rng.random()
        if r < 0.45:
            return self.pick(SCENE_EN)
        if r < 0.65:
            return self.pick(SCENE_ZH)
        if r < 0.8:
            return self.en.word().capitalize() if self.rng.random() < 0.5 else self.en.word().upper()
        if r < 0.9:
            return str(self.rng.randint(1, 9999))
        return self.en.last_name()
