"""博客园 cnblogs.com posts: body in `#cnblogs_post_body`, the blogger in the post footer."""

from __future__ import annotations

from datetime import timezone
from typing import Any, ClassVar

from crawler.extractors.base import Extractor
from crawler.extractors.dates import CHINA_TZ, parse_date
from crawler.extractors.page import Page, has_class


class CnblogsExtractor(Extractor):
    """cnblogs.com blog posts (www.cnblogs.com/<blogger>/p/<id>)."""

    name: ClassVar[str] = "cnblogs"
    domains: ClassVar[tuple[str, ...]] = ("cnblogs.com",)
    site: ClassVar[str | None] = "博客园"
    container: ClassVar[tuple[str, ...]] = ('//*[@id="cnblogs_post_body"]',)
    favor_recall: ClassVar[bool] = True
    tz: ClassVar[timezone | None] = CHINA_TZ

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Title from the post heading; the blogger from the footer line; date from `#post-date`."""
        return {
            "title": page.first(
                f"//*[{has_class('postTitle')}]//span[@role='heading']",
                f"//*[{has_class('postTitle')}]",
                '//*[@id="cb_post_title_url"]',
            ),
            "author": page.first(
                f"//*[{has_class('postDesc')}]/a[1]",
                '//*[@id="author_profile_detail"]/a[1]',
                '//*[@id="Header1_HeaderTitle"]',
            ),
            "published": parse_date(page.first('//*[@id="post-date"]'), CHINA_TZ),
            "site": self.site,
        }
