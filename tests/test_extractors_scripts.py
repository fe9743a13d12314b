"""js_string: string values that inline scripts assign to a name."""

from __future__ import annotations

from crawler.extractors.scripts import js_string


def test_js_string_reads_wechat_page_variables() -> None:
    source = """
    var biz = ""||"MjM5NzE1NTMyNg==";
    var title = 'A &amp; B'.html(false);
    var nickname = htmlDecode("机器之心");
    var msg_desc = "第一行\\x0a第二行";
    window.cgiDataNew = { nick_name: JsDecode('账号\\x26名'), create_time: '1700000000' * 1 };
    var author_id = "x";
    """
    assert js_string(source, "biz") == "MjM5NzE1NTMyNg=="
    assert js_string(source, "title") == "A & B"
    assert js_string(source, "nickname") == "机器之心"
    assert js_string(source, "msg_desc") == "第一行\n第二行"
    assert js_string(source, "nick_name") == "账号&名"
    assert js_string(source, "create_time") == "1700000000"
    assert js_string(source, "author") is None
    assert js_string(source, "nick_name", declared=True) is None
