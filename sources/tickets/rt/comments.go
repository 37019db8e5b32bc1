package rt

import (
	"context"
	"encoding/base64"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"sitroom/sources"
	"sitroom/sources/tickets"
)

var _ tickets.CommentFinder = (*Source)(nil)

// HasComment reports whether any comment on ticket id contains text: it
// walks the ticket's history (REST2 /ticket/{id}/history, page by page)
// and reads the text/plain attachments of its Comment transactions, which
// REST2 sends base64-encoded.
func (s *Source) HasComment(ctx context.Context, id, text string) (bool, error) {
	if err := checkID(id); err != nil {
		return false, err
	}
	for pg := 1; pg < 10000; pg++ {
		q := url.Values{}
		q.Set("fields", "Type")
		q.Set("per_page", "100")
		q.Set("page", strconv.Itoa(pg))
		var page struct {
			NextPage string `json:"next_page"`
			Items    []struct {
				ID   jsontext.Value `json:"id"`
				Type string         `json:"Type"`
			} `json:"items"`
		}
		if err := s.getJSON(ctx, "/ticket/"+id+"/history?"+q.Encode(), &page); err != nil {
			return false, s.explainWrite("read the history of #"+id, err)
		}
		for _, tx := range page.Items {
			if tx.Type != "Comment" {
				continue
			}
			var atts struct {
				Items []struct {
					Content     string `json:"Content"`
					ContentType string `json:"ContentType"`
				} `json:"items"`
			}
			tid := scalar(tx.ID)
			if _, err := strconv.ParseUint(tid, 10, 63); err != nil {
				continue
			}
			if err := s.getJSON(ctx, "/transaction/"+tid+"/attachments?fields=Content,ContentType&per_page=100", &atts); err != nil {
				return false, s.explainWrite("read a comment of #"+id, err)
			}
			for _, a := range atts.Items {
				if !strings.HasPrefix(a.ContentType, "text/") {
					continue
				}
				body := a.Content
				if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(body)); err == nil {
					body = string(b)
				}
				if strings.Contains(body, text) {
					return true, nil
				}
			}
		}
		if page.NextPage == "" || len(page.Items) == 0 {
			return false, nil
		}
	}
	return false, nil
}

func (s *Source) getJSON(ctx context.Context, path string, out any) error {
	return sources.GetJSON(ctx, s.o.Client, s.base+path, tickets.MaxReply, func(r io.Reader) error {
		b, err := sources.ReadAll(nil, r)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, out, unmarshalOpts); err != nil {
			return tickets.Malformed(err)
		}
		return nil
	})
}
