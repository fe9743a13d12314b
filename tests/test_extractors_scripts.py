"""js_string: string values that inline scripts assign to a name."""

from __future__ import annotations

from crawler.extractors.scripts import js_data, js_string


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


def test_js_data_reads_wechat_page_data_as_python_data() -> None:
    source = r"""
    function JsDecode(str) { return str && str.replace(/\\x26/g, '&'); }
    window.cgiDataNew = {
        base_resp: { ret: '0' * 1, errmsg: JsDecode('ok'), },
        nick_name: JsDecode('账号\x26名'),
        title: 'plain \'quoted\' literal',
        item_show_type: '8' * 1,
        ratio: 0.5, flag: true, nothing: null, later: window.a_value_which_never_exists || 'b',
        code: someCall(1, [2, 3]),
        "quoted key": "x",
        emoji: '\uD83D\uDE4F',
        picture_page_info_list: [
            { cdn_url: JsDecode('https://a/1.png\x26amp;from=appmsg'),
              watermark_info: { cdn_url: 'w' }, },
            { cdn_url: 'https://a/2.png', },
        ],
    };
    window.other = [1, 2];
    """
    data = js_data(source, "cgiDataNew")
    assert isinstance(data, dict)
    assert data["base_resp"] == {"ret": "0", "errmsg": "ok"}
    assert (data["nick_name"], data["title"]) == ("账号&名", "plain 'quoted' literal")
    assert (data["item_show_type"], data["ratio"], data["flag"], data["nothing"]) == (
        "8",
        0.5,
        True,
        None,
    )
    assert data["later"] == "b" and data["code"] is None and data["quoted key"] == "x"
    assert data["emoji"] == "🙏"
    pictures = data["picture_page_info_list"]
    assert [p["cdn_url"] for p in pictures] == [
        "https://a/1.png&amp;from=appmsg",
        "https://a/2.png",
    ]
    assert js_data(source, "other") == [1, 2]
    assert js_data(source, "missing") is None


def test_js_data_survives_broken_literals() -> None:
    assert js_data("window.cgiDataNew = { title: 'never closed", "cgiDataNew") is None
    assert js_data("window.cgiDataNew = { a: [1, 2", "cgiDataNew") is None
    assert js_data("x = {" * 5000, "x") is None
    assert js_data("window.cgiDataNew = 5;", "cgiDataNew") is None
