"""Scraping the Model Zoo catalog: the wiki page, the gists it links, their readme front matter."""
