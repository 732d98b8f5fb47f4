// Package shim exposes the upstream provider's constructor, which lives in an internal package.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	upstream "github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the upstream Terraform provider (its SDKv2 half: every resource but compose).
func NewProvider(version string) *schema.Provider { return upstream.New(version)() }
