"""Chinese AI-news prose, titles, names and filler markup, deterministic from a random.Random."""

from __future__ import annotations

import random

ORGS = (
    "OpenAI",
    "谷歌 DeepMind",
    "Anthropic",
    "Meta",
    "微软",
    "英伟达",
    "苹果",
    "亚马逊",
    "阿里云",
    "通义实验室",
    "百度",
    "字节跳动",
    "火山引擎",
    "腾讯混元",
    "华为",
    "智谱",
    "月之暗面",
    "深度求索",
    "MiniMax",
    "阶跃星辰",
    "百川智能",
    "零一万物",
    "商汤科技",
    "科大讯飞",
    "清华大学",
    "北京大学",
    "上海人工智能实验室",
    "浙江大学",
    "中科院自动化所",
    "面壁智能",
    "昆仑万维",
    "快手",
    "小米",
    "蚂蚁集团",
    "京东",
    "美团",
    "地平线",
    "寒武纪",
)
THINGS = (
    "大模型",
    "推理模型",
    "多模态大模型",
    "视频生成模型",
    "代码模型",
    "端侧小模型",
    "智能体框架",
    "具身智能机器人",
    "推理芯片",
    "训练集群",
    "开源数据集",
    "语音大模型",
    "世界模型",
    "检索增强系统",
    "自动驾驶方案",
    "AI 编程助手",
    "长上下文模型",
    "混合专家模型",
    "图像编辑模型",
    "数学推理模型",
    "AI 搜索产品",
    "企业级智能体平台",
    "向量数据库",
)
ACTIONS = (
    "正式发布",
    "开源",
    "上线",
    "推出",
    "公布",
    "升级",
    "完成测试",
    "宣布商用",
    "发布技术报告介绍",
    "在 GitHub 上开源",
    "面向开发者开放",
    "推出新一代",
)
METRICS = (
    "推理速度",
    "训练成本",
    "上下文长度",
    "数学能力",
    "代码能力",
    "多语言能力",
    "能耗比",
    "首字延迟",
    "吞吐量",
    "准确率",
    "幻觉率",
    "工具调用成功率",
    "长文本召回率",
)
BENCHES = (
    "MMLU",
    "GSM8K",
    "HumanEval",
    "SWE-bench",
    "MATH",
    "C-Eval",
    "CMMLU",
    "LiveCodeBench",
    "GPQA",
    "AIME",
    "Arena-Hard",
    "MT-Bench",
)
CONNECTIVES = (
    "与此同时",
    "值得注意的是",
    "据悉",
    "业内人士认为",
    "从技术路线来看",
    "此外",
    "相比之下",
    "具体而言",
    "在发布会上",
    "据官方介绍",
    "有分析指出",
    "从应用层面看",
    "总体来看",
)
VIEWS = (
    "这意味着大模型的竞争正在从参数规模转向工程效率",
    "开源社区的反馈将决定这一路线能否走得更远",
    "国产算力的适配仍是落地过程中绕不开的问题",
    "如何在成本与效果之间取得平衡仍有待观察",
    "行业普遍认为明年将是智能体真正落地的一年",
    "端侧部署让隐私保护与响应速度同时得到改善",
    "数据质量比数据规模更能决定模型的上限",
    "监管框架的完善将为产业发展提供更清晰的预期",
    "开发者生态的建设比单次榜单成绩更重要",
    "推理成本的持续下降正在催生新的应用形态",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬宇浩凯晨轩"
ACCOUNTS = (
    "机器之心",
    "量子位",
    "新智元",
    "AI科技评论",
    "InfoQ",
    "极客公园",
    "硅星人",
    "智东西",
    "甲子光年",
    "AI前线",
    "夕小瑶科技说",
    "PaperWeekly",
    "数字生命卡兹克",
    "APPSO",
)
CHANNELS = (
    "首页",
    "人工智能",
    "大模型",
    "芯片",
    "机器人",
    "自动驾驶",
    "云计算",
    "创投",
    "产业",
    "政策",
    "科研",
    "开源",
    "评测",
    "访谈",
    "专题",
    "视频",
    "活动",
    "招聘",
    "关于我们",
    "联系我们",
    "投稿",
    "手机版",
    "客户端下载",
    "RSS 订阅",
    "数码",
    "手机",
    "电脑",
    "游戏",
)
COMMENTS = (
    "这个进展太快了，期待开源权重。",
    "有没有人实测过？想看看和上一代的对比。",
    "国产模型越来越强了，点赞。",
    "价格还是有点贵，希望能再降一降。",
    "文章写得很清楚，收藏了。",
    "榜单成绩不代表实际体验，还是要自己试试。",
    "什么时候能在手机上跑？",
    "感觉又是一轮价格战的开始。",
    "技术报告里的细节很值得一读。",
)


def person(rng: random.Random) -> str:
    """A Chinese personal name."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def title(rng: random.Random) -> str:
    """A news headline."""
    org, thing = rng.choice(ORGS), rng.choice(THINGS)
    forms = (
        f"{org}{rng.choice(ACTIONS)}{thing}，{rng.choice(METRICS)}提升{rng.randint(2, 90)}%",
        f"{org}发布{thing}：{rng.choice(BENCHES)} 成绩超过同类开源模型",
        f"独家｜{org}{thing}团队详解新一代{rng.choice(METRICS)}优化方案",
        f"{org}与{rng.choice(ORGS)}合作推出{thing}，首批面向企业客户开放",
        f"{thing}的下一步：{org}给出了{rng.randint(3, 9)}个判断",
        f"刚刚，{org}{rng.choice(ACTIONS)}{thing}，开发者可免费试用",
    )
    return rng.choice(forms)


def sentence(rng: random.Random) -> str:
    """One sentence of news prose, numbers and names varied."""
    org, thing, metric = rng.choice(ORGS), rng.choice(THINGS), rng.choice(METRICS)
    n = rng.randint(2, 98)
    forms = (
        f"{org}表示，新版{thing}在{rng.choice(BENCHES)}上取得了{n}.{rng.randint(0, 9)}分的成绩，"
        f"较上一版本提升约{rng.randint(2, 30)}个百分点。",
        f"{rng.choice(CONNECTIVES)}，该{thing}的{metric}相比行业平均水平提高了{n}%，"
        f"而部署成本下降了近{rng.randint(10, 80)}%。",
        f"{person(rng)}在接受采访时指出，{rng.choice(VIEWS)}。",
        f"根据{org}公布的数据，目前已有超过{rng.randint(2, 900)}家企业接入了{thing}，"
        f"覆盖金融、医疗、教育和制造等{rng.randint(3, 20)}个行业。",
        f"{rng.choice(CONNECTIVES)}，{org}计划在未来{rng.randint(2, 18)}个月内把{thing}"
        f"扩展到{rng.randint(2, 50)}种语言，并开放更多接口给第三方开发者。",
        f"研究团队在论文中详细描述了训练数据的清洗流程，共使用了约{n}万亿个词元，"
        f"其中中文语料占比约{rng.randint(10, 60)}%。",
        f"{rng.choice(CONNECTIVES)}，{rng.choice(VIEWS)}，{org}的这一步被视为重要信号。",
        f"在实际测试中，{thing}处理一份{rng.randint(20, 500)}页的文档仅需{rng.randint(2, 60)}秒，"
        f"{metric}表现稳定。",
    )
    return rng.choice(forms)


def paragraphs(rng: random.Random, chars: int) -> list[str]:
    """Paragraphs of 2 to 6 sentences adding up to about `chars` characters."""
    out: list[str] = []
    total = 0
    while total < chars:
        para = "".join(sentence(rng) for _ in range(rng.randint(2, 6)))
        out.append(para)
        total += len(para)
    return out


def summary(rng: random.Random) -> str:
    """One or two sentences for a digest entry."""
    return "".join(sentence(rng) for _ in range(rng.randint(1, 2)))


def _js_snippet(rng: random.Random) -> str:
    """A chunk of minified-looking JavaScript."""
    name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 3)))
    parts = [
        f"function {name}(e,t,n){{var r=e&&e.length||0;for(var i=0;i<r;i++){{"
        f"if(t(e[i],i)===!1)break}}return n?e.slice(0,{rng.randint(1, 99)}):e}}",
        f'var {name}={{key:"{rng.getrandbits(64):016x}",ts:{rng.randint(10**9, 2 * 10**9)},'
        f"ratio:{rng.random():.4f},"
        f"list:[{','.join(str(rng.randint(0, 999)) for _ in range(12))}]}};",
        f'!function(){{try{{window.{name}_cfg=JSON.parse("{{\\"v\\":{rng.randint(1, 9)}}}")'
        f"}}catch(o){{console&&console.log(o)}}}}();",
        f'document.addEventListener("DOMContentLoaded",function(){{var t=document.'
        f'querySelectorAll(".{name}-item");t.forEach(function(e){{e.classList.add("on")}})}});',
    ]
    return "".join(rng.sample(parts, rng.randint(2, 4)))


def script_blob(rng: random.Random, size: int) -> str:
    """About `size` bytes of inline JavaScript."""
    chunks: list[str] = []
    total = 0
    while total < size:
        chunk = _js_snippet(rng)
        chunks.append(chunk)
        total += len(chunk)
    return "\n".join(chunks)


def css_blob(rng: random.Random, rules: int) -> str:
    """`rules` CSS rules with generated class names."""
    out = []
    for i in range(rules):
        out.append(
            f".c{i}-{rng.getrandbits(20):05x}{{"
            f"margin:{rng.randint(0, 24)}px {rng.randint(0, 24)}px;"
            f"color:#{rng.getrandbits(24):06x};font-size:{rng.randint(12, 20)}px;"
            f"line-height:{rng.randint(14, 30)}px}}"
        )
    return "".join(out)
